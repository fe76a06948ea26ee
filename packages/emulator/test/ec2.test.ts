import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceTerminated,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, errorOf, fast, start, UBUNTU_SSM } from "./helpers.js";

let c: Clients;
beforeAll(async () => {
  c = await start();
});
afterAll(async () => {
  await c.emu.stop();
});

describe("EC2 network discovery", () => {
  it("has a default VPC with one default subnet per AZ", async () => {
    const azs = await c.ec2.send(new DescribeAvailabilityZonesCommand({}));
    expect(azs.AvailabilityZones?.map((z) => z.ZoneName)).toContain("us-east-1a");
    const vpcs = await c.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
    );
    expect(vpcs.Vpcs).toHaveLength(1);
    expect(vpcs.Vpcs?.[0]?.CidrBlock).toBe("172.31.0.0/16");
    const subnets = await c.ec2.send(
      new DescribeSubnetsCommand({
        Filters: [
          { Name: "vpc-id", Values: [vpcs.Vpcs![0]!.VpcId!] },
          { Name: "default-for-az", Values: ["true"] },
        ],
      }),
    );
    expect(subnets.Subnets?.length).toBe(azs.AvailabilityZones?.length);
    expect(subnets.Subnets?.[0]?.MapPublicIpOnLaunch).toBe(true);
    expect(subnets.Subnets?.[0]?.DefaultForAz).toBe(true);
    expect(c.emu.inventory().filter((i) => i.type === "vpc" || i.type === "subnet")).toEqual([]);
    const defaults = c.emu.inventory({ includeDefaults: true });
    expect(defaults.filter((i) => i.type === "subnet")).toHaveLength(6);
    expect(defaults.find((i) => i.type === "vpc")?.id).toBe("vpc-002e524e131eeda2a");
    const dry = await errorOf(
      c.ec2.send(new CreateSecurityGroupCommand({ GroupName: "dry", Description: "d", DryRun: true })),
    );
    expect([dry.name, dry.status]).toEqual(["DryRunOperation", 412]);
  });
});

describe("EC2 instances", () => {
  it("runs, waits for running, and terminates an instance", async () => {
    const sg = await c.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: "nodes",
        Description: "k3s nodes",
        TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: "cluster", Value: "c1" }] }],
      }),
    );
    const subnets = await c.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }),
    );
    const subnet = subnets.Subnets![1]!;
    const run = await c.ec2.send(
      new RunInstancesCommand({
        ImageId: UBUNTU_SSM,
        InstanceType: "m6i.xlarge",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnet.SubnetId,
        SecurityGroupIds: [sg.GroupId!],
        UserData: Buffer.from("#!/bin/sh\necho hi\n").toString("base64"),
        ClientToken: "c1-node-0",
        MetadataOptions: { HttpTokens: "required" },
        BlockDeviceMappings: [
          { DeviceName: "/dev/sda1", Ebs: { VolumeSize: 50, VolumeType: "gp3", Encrypted: true } },
        ],
        TagSpecifications: [
          {
            ResourceType: "instance",
            Tags: [
              { Key: "cluster", Value: "c1" },
              { Key: "Name", Value: "node-0" },
            ],
          },
        ],
      }),
    );
    const inst = run.Instances![0]!;
    expect(inst.InstanceId).toMatch(/^i-[0-9a-f]{17}$/);
    expect(inst.State?.Name).toBe("pending");
    expect(inst.Placement?.AvailabilityZone).toBe(subnet.AvailabilityZone);
    expect(inst.PrivateIpAddress?.startsWith("172.31.")).toBe(true);
    expect(inst.MetadataOptions?.HttpTokens).toBe("required");
    expect(inst.Tags).toContainEqual({ Key: "Name", Value: "node-0" });

    const waited = await waitUntilInstanceRunning(
      { client: c.ec2, ...fast },
      { InstanceIds: [inst.InstanceId!] },
    );
    expect(waited.state).toBe("SUCCESS");
    const d = await c.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: "tag:cluster", Values: ["c1"] },
          { Name: "instance-state-name", Values: ["running"] },
        ],
      }),
    );
    const got = d.Reservations![0]!.Instances![0]!;
    expect(got.PublicIpAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(got.ClientToken).toBe("c1-node-0");

    const inv = c.emu.inventory({ tags: { cluster: "c1" } });
    expect(inv.map((x) => x.type).sort()).toEqual(["instance", "security-group"]);

    // DependencyViolation while the instance uses the group.
    const dep = await errorOf(c.ec2.send(new DeleteSecurityGroupCommand({ GroupId: sg.GroupId })));
    expect(dep.name).toBe("DependencyViolation");

    const t = await c.ec2.send(new TerminateInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
    expect(t.TerminatingInstances?.[0]?.CurrentState?.Name).toBe("shutting-down");
    await waitUntilInstanceTerminated({ client: c.ec2, ...fast }, { InstanceIds: [inst.InstanceId!] });
    expect(c.emu.inventory({ tags: { cluster: "c1" } }).map((x) => x.type)).toEqual(["security-group"]);
    await c.ec2.send(new DeleteSecurityGroupCommand({ GroupId: sg.GroupId }));
  });

  it("rejects a duplicate ingress rule", async () => {
    const sg = await c.ec2.send(new CreateSecurityGroupCommand({ GroupName: "dup-test", Description: "x" }));
    const perm = { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "0.0.0.0/0" }] };
    const ok = await c.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: sg.GroupId, IpPermissions: [perm] }),
    );
    expect(ok.Return).toBe(true);
    const e = await errorOf(
      c.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: sg.GroupId, IpPermissions: [perm] })),
    );
    expect(e.name).toBe("InvalidPermission.Duplicate");
    // Rule descriptions take only a-zA-Z0-9, space and ._-:/()#,@[]+=&;{}!$* (IpRange reference).
    const quote = await errorOf(
      c.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: sg.GroupId,
          IpPermissions: [
            {
              ...perm,
              FromPort: 80,
              ToPort: 80,
              IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "Rancher's UI" }],
            },
          ],
        }),
      ),
    );
    expect(quote.name).toBe("InvalidParameterValue");
    const g = await c.ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: ["dup-test"] }] }),
    );
    expect(g.SecurityGroups?.[0]?.IpPermissions?.[0]?.IpRanges?.[0]?.CidrIp).toBe("0.0.0.0/0");
    await c.ec2.send(new CreateTagsCommand({ Resources: [sg.GroupId!], Tags: [{ Key: "k", Value: "v" }] }));
  });
});

describe("EC2 rules", () => {
  const runArgs = { ImageId: UBUNTU_SSM, InstanceType: "t3.micro" as const, MinCount: 1, MaxCount: 1 };

  it("replays a ClientToken and rejects a changed request under the same token", async () => {
    const a = await c.ec2.send(new RunInstancesCommand({ ...runArgs, ClientToken: "tok-1" }));
    const b = await c.ec2.send(new RunInstancesCommand({ ...runArgs, ClientToken: "tok-1" }));
    expect(b.ReservationId).toBe(a.ReservationId);
    expect(b.Instances?.[0]?.InstanceId).toBe(a.Instances?.[0]?.InstanceId);
    const e = await errorOf(
      c.ec2.send(new RunInstancesCommand({ ...runArgs, InstanceType: "t3.small", ClientToken: "tok-1" })),
    );
    expect(e.name).toBe("IdempotentParameterMismatch");
    const byToken = await c.ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: "client-token", Values: ["tok-1"] }] }),
    );
    expect(byToken.Reservations).toHaveLength(1);
  });

  it("validates requests against the model and the documented rules", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ MinCount: undefined }, "MissingParameter"],
      [{ InstanceType: "m5.huge" }, "InvalidParameterValue"],
      [{ InstanceType: "t4g.small" }, "InvalidParameterValue"], // arm64 type with an amd64 AMI
      [{ UserData: "not base64!" }, "InvalidParameterValue"],
      [{ ImageId: "ami-0123456789abcdef0" }, "InvalidAMIID.NotFound"],
      [{ MetadataOptions: { HttpTokens: "sometimes" } }, "InvalidParameterValue"],
      [{ SubnetId: "subnet-0123456789abcdef0" }, "InvalidSubnetID.NotFound"],
      [{ SecurityGroupIds: ["sg-0123456789abcdef0"] }, "InvalidGroup.NotFound"],
      [{ ClientToken: "x".repeat(65) }, "InvalidParameterValue"],
    ];
    for (const [patch, code] of cases) {
      const e = await errorOf(c.ec2.send(new RunInstancesCommand({ ...runArgs, ...patch } as never)));
      expect(`${JSON.stringify(patch)} ${e.name}`).toBe(`${JSON.stringify(patch)} ${code}`);
    }
    const nf = await errorOf(
      c.ec2.send(new DescribeInstancesCommand({ InstanceIds: ["i-0123456789abcdef0"] })),
    );
    expect(nf.name).toBe("InvalidInstanceID.NotFound");
    const sgnf = await errorOf(
      c.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ["sg-0123456789abcdef0"] })),
    );
    expect(sgnf.name).toBe("InvalidGroup.NotFound");
  });

  it("refuses duplicate group names per VPC and deleting a group another group references", async () => {
    const a = await c.ec2.send(new CreateSecurityGroupCommand({ GroupName: "ref-a", Description: "a" }));
    const dup = await errorOf(
      c.ec2.send(new CreateSecurityGroupCommand({ GroupName: "REF-A", Description: "a" })),
    );
    expect(dup.name).toBe("InvalidGroup.Duplicate");
    const b = await c.ec2.send(new CreateSecurityGroupCommand({ GroupName: "ref-b", Description: "b" }));
    await c.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: b.GroupId,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 3306, ToPort: 3306, UserIdGroupPairs: [{ GroupId: a.GroupId }] },
        ],
      }),
    );
    const dep = await errorOf(c.ec2.send(new DeleteSecurityGroupCommand({ GroupId: a.GroupId })));
    expect(dep.name).toBe("DependencyViolation");
    await c.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: b.GroupId,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 3306, ToPort: 3306, UserIdGroupPairs: [{ GroupId: a.GroupId }] },
        ],
      }),
    );
    await c.ec2.send(new DeleteSecurityGroupCommand({ GroupId: a.GroupId }));
    const byTag = await c.ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "tag-key", Values: ["k"] }] }),
    );
    expect(byTag.SecurityGroups?.map((g) => g.GroupName)).toEqual(["dup-test"]);
  });

  it("pages DescribeInstances with MaxResults/NextToken", async () => {
    await c.ec2.send(
      new RunInstancesCommand({
        ...runArgs,
        MinCount: 7,
        MaxCount: 7,
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "page", Value: "y" }] }],
      }),
    );
    for (let i = 0; i < 5; i++) {
      await c.ec2.send(
        new RunInstancesCommand({
          ...runArgs,
          TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "page", Value: "y" }] }],
        }),
      );
    }
    const ids: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const out = await c.ec2.send(
        new DescribeInstancesCommand({
          Filters: [{ Name: "tag:page", Values: ["y"] }],
          MaxResults: 5,
          NextToken,
        }),
      );
      for (const r of out.Reservations ?? []) for (const i of r.Instances ?? []) ids.push(i.InstanceId!);
      NextToken = out.NextToken;
      pages++;
    } while (NextToken);
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
    expect(pages).toBe(2);
  });
});

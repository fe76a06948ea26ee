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
    const g = await c.ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: ["dup-test"] }] }),
    );
    expect(g.SecurityGroups?.[0]?.IpPermissions?.[0]?.IpRanges?.[0]?.CidrIp).toBe("0.0.0.0/0");
    await c.ec2.send(new CreateTagsCommand({ Resources: [sg.GroupId!], Tags: [{ Key: "k", Value: "v" }] }));
  });
});

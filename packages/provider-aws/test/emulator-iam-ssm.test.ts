// The emulator's IAM, SSM Parameter Store, instance identity and role authorization, through the official SDK
// clients (they are this package's dependencies, not the emulator's).
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesCommand,
  ListInstanceProfileTagsCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagInstanceProfileCommand,
  TagRoleCommand,
  UntagRoleCommand,
} from "@aws-sdk/client-iam";
import {
  AddTagsToResourceCommand,
  DeleteParameterCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  RemoveTagsFromResourceCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REGION = "us-east-1";
const IMAGE =
  "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";
const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});
const CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";
const SECRET = "K3sTokenValue-0123456789-abcdef";

async function failure(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error("expected the call to fail");
}

function clients(
  emu: Emulator,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = emu.credentials.aws,
) {
  const cfg = { region: REGION, endpoint: emu.endpoints.aws!, credentials, maxAttempts: 1 };
  return { iam: new IAMClient(cfg), ssm: new SSMClient(cfg), ec2: new EC2Client(cfg) };
}

let now = Date.parse("2026-03-01T12:00:00Z");
let emu: Emulator;
let c: ReturnType<typeof clients>;
const dir = mkdtempSync(join(tmpdir(), "k3sinfra-emu-"));
const persistPath = join(dir, "state", "cloud.json");

beforeAll(async () => {
  // A clock the tests advance: the profile propagation delay is crossed without sleeping.
  emu = await startEmulator({
    timeScale: 0.001,
    seed: 3,
    iamPropagationMs: 10_000,
    clock: () => now,
    persistPath,
    log: () => {},
  });
  c = clients(emu);
});
afterAll(() => emu.stop());

describe("IAM", () => {
  it("roles: create with tags, get (policy URL-encoded), duplicates in any case, name and document checks", async () => {
    const created = await c.iam.send(
      new CreateRoleCommand({
        RoleName: "k3sinfra-c1-node",
        AssumeRolePolicyDocument: TRUST,
        Tags: [{ Key: "k3sinfra:cluster", Value: "c1" }],
      }),
    );
    expect(created.Role).toMatchObject({ Arn: "arn:aws:iam::123456789012:role/k3sinfra-c1-node", Path: "/" });
    expect(created.Role?.RoleId).toMatch(/^AROA[A-Z0-9]{17}$/);
    const got = await c.iam.send(new GetRoleCommand({ RoleName: "k3sinfra-c1-node" }));
    expect(decodeURIComponent(got.Role!.AssumeRolePolicyDocument!)).toBe(TRUST);
    expect(got.Role?.Tags).toEqual([{ Key: "k3sinfra:cluster", Value: "c1" }]);
    const dup = await failure(
      c.iam.send(new CreateRoleCommand({ RoleName: "K3SINFRA-c1-NODE", AssumeRolePolicyDocument: TRUST })),
    );
    expect(dup).toEqual({
      name: "EntityAlreadyExistsException",
      message: "Role with name K3SINFRA-c1-NODE already exists.",
      status: 409,
    });
    const bad = await failure(
      c.iam.send(new CreateRoleCommand({ RoleName: "a b", AssumeRolePolicyDocument: TRUST })),
    );
    expect(bad.message).toContain(
      "at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern",
    );
    const malformed = await failure(
      c.iam.send(new CreateRoleCommand({ RoleName: "x", AssumeRolePolicyDocument: "{" })),
    );
    expect(malformed.name).toBe("MalformedPolicyDocumentException");
    expect((await failure(c.iam.send(new GetRoleCommand({ RoleName: "nope" })))).message).toBe(
      "The role with name nope cannot be found.",
    );
    await c.iam.send(
      new CreateRoleCommand({ RoleName: "other", Path: "/app/", AssumeRolePolicyDocument: TRUST }),
    );
    const listed = await c.iam.send(new ListRolesCommand({ PathPrefix: "/app/" }));
    expect(listed.Roles?.map((r) => r.RoleName)).toEqual(["other"]);
    await c.iam.send(
      new TagRoleCommand({
        RoleName: "other",
        Tags: [
          { Key: "a", Value: "1" },
          { Key: "b", Value: "2" },
        ],
      }),
    );
    await c.iam.send(new UntagRoleCommand({ RoleName: "other", TagKeys: ["a"] }));
    expect((await c.iam.send(new ListRoleTagsCommand({ RoleName: "other" }))).Tags).toEqual([
      { Key: "b", Value: "2" },
    ]);
    await c.iam.send(new DeleteRoleCommand({ RoleName: "other" }));
  });

  it("inline and managed policies; DeleteRole is refused while any is there", async () => {
    const role = "k3sinfra-c1-node";
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: "ssm:GetParameter",
          Resource: `arn:aws:ssm:${REGION}:123456789012:parameter/k3sinfra/c1/*`,
        },
        {
          Effect: "Allow",
          Action: "ssm:PutParameter",
          Resource: `arn:aws:ssm:${REGION}:123456789012:parameter/k3sinfra/c1/kubeconfig`,
        },
      ],
    });
    await c.iam.send(
      new PutRolePolicyCommand({ RoleName: role, PolicyName: "secrets", PolicyDocument: policy }),
    );
    const got = await c.iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: "secrets" }));
    expect(decodeURIComponent(got.PolicyDocument!)).toBe(policy);
    expect((await c.iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames).toEqual([
      "secrets",
    ]);
    expect((await failure(c.iam.send(new DeleteRoleCommand({ RoleName: role })))).message).toBe(
      "Cannot delete entity, must delete policies first.",
    );
    await c.iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: CORE }));
    expect(
      (await c.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role }))).AttachedPolicies,
    ).toEqual([{ PolicyName: "AmazonSSMManagedInstanceCore", PolicyArn: CORE }]);
    const unknown = await failure(
      c.iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: "arn:aws:iam::aws:policy/Nope" })),
    );
    expect(unknown.name).toBe("NoSuchEntityException");
    const resourceInTrust = await failure(
      c.iam.send(
        new PutRolePolicyCommand({
          RoleName: role,
          PolicyName: "p",
          PolicyDocument: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "ssm:GetParameter" }] }),
        }),
      ),
    );
    expect(resourceInTrust.name).toBe("MalformedPolicyDocumentException");
  });

  it("instance profiles: one role, DeleteConflict both ways, tags, inventory", async () => {
    const created = await c.iam.send(
      new CreateInstanceProfileCommand({
        InstanceProfileName: "k3sinfra-c1-node",
        Tags: [{ Key: "k3sinfra:cluster", Value: "c1" }],
      }),
    );
    expect(created.InstanceProfile?.InstanceProfileId).toMatch(/^AIPA[A-Z0-9]{17}$/);
    await c.iam.send(
      new AddRoleToInstanceProfileCommand({
        InstanceProfileName: "k3sinfra-c1-node",
        RoleName: "k3sinfra-c1-node",
      }),
    );
    await c.iam.send(new CreateRoleCommand({ RoleName: "second", AssumeRolePolicyDocument: TRUST }));
    expect(
      await failure(
        c.iam.send(
          new AddRoleToInstanceProfileCommand({
            InstanceProfileName: "k3sinfra-c1-node",
            RoleName: "second",
          }),
        ),
      ),
    ).toEqual({
      name: "LimitExceededException",
      message: "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
      status: 409,
    });
    const profileConflict = await failure(
      c.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: "k3sinfra-c1-node" })),
    );
    expect(profileConflict).toMatchObject({ name: "DeleteConflictException", status: 409 });
    await c.iam.send(new DeleteRolePolicyCommand({ RoleName: "k3sinfra-c1-node", PolicyName: "secrets" }));
    await c.iam.send(new DetachRolePolicyCommand({ RoleName: "k3sinfra-c1-node", PolicyArn: CORE }));
    expect((await failure(c.iam.send(new DeleteRoleCommand({ RoleName: "k3sinfra-c1-node" })))).message).toBe(
      "Cannot delete entity, must remove roles from instance profile first.",
    );
    await c.iam.send(
      new TagInstanceProfileCommand({
        InstanceProfileName: "k3sinfra-c1-node",
        Tags: [{ Key: "x", Value: "y" }],
      }),
    );
    expect(
      (await c.iam.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: "k3sinfra-c1-node" })))
        .Tags,
    ).toHaveLength(2);
    const profile = (
      await c.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "k3sinfra-c1-node" }))
    ).InstanceProfile!;
    expect(profile.Roles?.map((r) => r.RoleName)).toEqual(["k3sinfra-c1-node"]);
    expect((await c.iam.send(new ListInstanceProfilesCommand({}))).InstanceProfiles).toHaveLength(1);
    const inv = emu.inventory({ tags: { "k3sinfra:cluster": "c1" } });
    expect(inv.map((i) => [i.type, i.name])).toEqual([
      ["iam-role", "k3sinfra-c1-node"],
      ["iam-instance-profile", "k3sinfra-c1-node"],
    ]);
    await c.iam.send(new DeleteRoleCommand({ RoleName: "second" }));
  });
});

describe("EC2 with an instance profile", () => {
  it("RunInstances fails until the new profile has propagated, then carries it; user data reads back as given", async () => {
    await c.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: "fresh" }));
    const run = (profile: { Name?: string; Arn?: string }) =>
      c.ec2.send(
        new RunInstancesCommand({
          ImageId: IMAGE,
          InstanceType: "t3.small",
          MinCount: 1,
          MaxCount: 1,
          IamInstanceProfile: profile,
          UserData: Buffer.from("#!/bin/sh\necho hi\n").toString("base64"),
        }),
      );
    expect(await failure(run({ Name: "fresh" }))).toEqual({
      name: "InvalidParameterValue",
      message:
        "Value (fresh) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
      status: 400,
    });
    now += 9_999;
    expect((await failure(run({ Name: "fresh" }))).name).toBe("InvalidParameterValue");
    now += 1;
    const ok = await run({ Name: "fresh" });
    const profile = (await c.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "fresh" })))
      .InstanceProfile!;
    expect(ok.Instances?.[0]?.IamInstanceProfile).toEqual({
      Arn: profile.Arn,
      Id: profile.InstanceProfileId,
    });
    const byArn = await run({ Arn: profile.Arn! });
    expect(byArn.Instances?.[0]?.IamInstanceProfile?.Arn).toBe(profile.Arn);
    const missing = await failure(run({ Arn: "arn:aws:iam::123456789012:instance-profile/absent" }));
    expect(missing.message).toBe(
      "Value (arn:aws:iam::123456789012:instance-profile/absent) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN",
    );
    const id = ok.Instances![0]!.InstanceId!;
    const described = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    expect(described.Reservations?.[0]?.Instances?.[0]?.IamInstanceProfile?.Id).toBe(
      profile.InstanceProfileId,
    );
    const attr = await c.ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "userData" }),
    );
    expect(Buffer.from(attr.UserData!.Value!, "base64").toString()).toBe("#!/bin/sh\necho hi\n");
  });
});

describe("EC2 association calls", () => {
  it("AssociateIamInstanceProfile on an instance without one; associations are listed and filtered", async () => {
    const run = await c.ec2.send(
      new RunInstancesCommand({ ImageId: IMAGE, InstanceType: "t3.small", MinCount: 1, MaxCount: 1 }),
    );
    const id = run.Instances![0]!.InstanceId!;
    now += 60_000; // running
    const assoc = await c.ec2.send(
      new AssociateIamInstanceProfileCommand({ InstanceId: id, IamInstanceProfile: { Name: "fresh" } }),
    );
    expect(assoc.IamInstanceProfileAssociation).toMatchObject({ InstanceId: id, State: "associating" });
    const again = await failure(
      c.ec2.send(
        new AssociateIamInstanceProfileCommand({ InstanceId: id, IamInstanceProfile: { Name: "fresh" } }),
      ),
    );
    expect(again.name).toBe("IncorrectState");
    const listed = await c.ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: "instance-id", Values: [id] }] }),
    );
    expect(listed.IamInstanceProfileAssociations?.map((a) => [a.InstanceId, a.State])).toEqual([
      [id, "associated"],
    ]);
    const bad = await failure(
      c.ec2.send(
        new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: "nope", Values: ["x"] }] }),
      ),
    );
    expect(bad.name).toBe("InvalidParameterValue");
    const type = await c.ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "instanceType" }),
    );
    expect(type.InstanceType?.Value).toBe("t3.small");
    const none = await c.ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "userData" }),
    );
    expect(none.UserData?.Value).toBeUndefined();
  });
});

describe("SSM Parameter Store", () => {
  it("SecureString: sealed without decryption, clear with it; versions, selectors, overwrite rules", async () => {
    const put = await c.ssm.send(
      new PutParameterCommand({
        Name: "/k3sinfra/c1/k3s-token",
        Value: SECRET,
        Type: "SecureString",
        Tags: [{ Key: "k3sinfra:cluster", Value: "c1" }],
      }),
    );
    expect(put).toMatchObject({ Version: 1, Tier: "Standard" });
    const sealed = (await c.ssm.send(new GetParameterCommand({ Name: "/k3sinfra/c1/k3s-token" }))).Parameter!;
    expect(sealed.Value).toMatch(/^AQICAH/);
    expect(sealed.Value).not.toContain(SECRET);
    const open = (
      await c.ssm.send(new GetParameterCommand({ Name: "/k3sinfra/c1/k3s-token", WithDecryption: true }))
    ).Parameter!;
    expect(open).toMatchObject({
      Value: SECRET,
      Type: "SecureString",
      Version: 1,
      ARN: `arn:aws:ssm:${REGION}:123456789012:parameter/k3sinfra/c1/k3s-token`,
    });
    expect(
      (
        await failure(
          c.ssm.send(
            new PutParameterCommand({ Name: "/k3sinfra/c1/k3s-token", Value: "x", Type: "SecureString" }),
          ),
        )
      ).name,
    ).toBe("ParameterAlreadyExists");
    const tagsAndOverwrite = await failure(
      c.ssm.send(
        new PutParameterCommand({
          Name: "/k3sinfra/c1/k3s-token",
          Value: "x",
          Overwrite: true,
          Tags: [{ Key: "a", Value: "b" }],
        }),
      ),
    );
    expect(tagsAndOverwrite.message).toContain("tags and overwrite can't be used together");
    expect(
      (
        await c.ssm.send(
          new PutParameterCommand({ Name: "/k3sinfra/c1/k3s-token", Value: `${SECRET}-2`, Overwrite: true }),
        )
      ).Version,
    ).toBe(2);
    const v1 = await c.ssm.send(
      new GetParameterCommand({ Name: "/k3sinfra/c1/k3s-token:1", WithDecryption: true }),
    );
    expect(v1.Parameter).toMatchObject({ Value: SECRET, Version: 1, Selector: ":1" });
    expect(
      (await failure(c.ssm.send(new GetParameterCommand({ Name: "/k3sinfra/c1/k3s-token:9" })))).name,
    ).toBe("ParameterVersionNotFound");
    expect((await failure(c.ssm.send(new GetParameterCommand({ Name: "/k3sinfra/c1/absent" })))).name).toBe(
      "ParameterNotFound",
    );
  });

  it("value limits per tier, names, GetParameters over account and public parameters", async () => {
    const big = "x".repeat(4097);
    const standard = await failure(
      c.ssm.send(new PutParameterCommand({ Name: "/k3sinfra/c1/big", Value: big, Type: "String" })),
    );
    expect(standard).toMatchObject({
      name: "ValidationException",
      message: expect.stringContaining("maximum parameter value of 4096 characters"),
    });
    expect(
      (
        await c.ssm.send(
          new PutParameterCommand({ Name: "/k3sinfra/c1/big", Value: big, Type: "String", Tier: "Advanced" }),
        )
      ).Tier,
    ).toBe("Advanced");
    expect(
      (
        await failure(
          c.ssm.send(
            new PutParameterCommand({
              Name: "/k3sinfra/c1/bigger",
              Value: "x".repeat(8193),
              Type: "String",
              Tier: "Advanced",
            }),
          ),
        )
      ).name,
    ).toBe("ValidationException");
    expect(
      (await failure(c.ssm.send(new PutParameterCommand({ Name: "/aws/mine", Value: "v", Type: "String" }))))
        .name,
    ).toBe("ValidationException");
    const public24 = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";
    const both = await c.ssm.send(
      new GetParametersCommand({ Names: ["/k3sinfra/c1/big", public24, "/nope"] }),
    );
    expect(both.Parameters?.map((p) => p.Name)).toEqual(["/k3sinfra/c1/big", public24]);
    expect(both.InvalidParameters).toEqual(["/nope"]);
  });

  it("DescribeParameters filters, GetParametersByPath, tags, deletes; the inventory never holds a value", async () => {
    await c.ssm.send(new PutParameterCommand({ Name: "/k3sinfra/c1/nested/a", Value: "A", Type: "String" }));
    await c.ssm.send(
      new PutParameterCommand({
        Name: "/k3sinfra/c2/k3s-token",
        Value: "other",
        Type: "SecureString",
        Tags: [{ Key: "k3sinfra:cluster", Value: "c2" }],
      }),
    );
    const names = async (filters: { Key: string; Option?: string; Values?: string[] }[]) =>
      (await c.ssm.send(new DescribeParametersCommand({ ParameterFilters: filters }))).Parameters?.map(
        (p) => p.Name,
      );
    expect(await names([{ Key: "Name", Option: "BeginsWith", Values: ["/k3sinfra/c1/"] }])).toEqual([
      "/k3sinfra/c1/big",
      "/k3sinfra/c1/k3s-token",
      "/k3sinfra/c1/nested/a",
    ]);
    expect(await names([{ Key: "tag:k3sinfra:cluster", Values: ["c2"] }])).toEqual([
      "/k3sinfra/c2/k3s-token",
    ]);
    expect(
      await names([
        { Key: "Type", Values: ["SecureString"] },
        { Key: "Name", Values: ["/k3sinfra/c1/k3s-token"] },
      ]),
    ).toEqual(["/k3sinfra/c1/k3s-token"]);
    const meta = (
      await c.ssm.send(
        new DescribeParametersCommand({
          ParameterFilters: [{ Key: "Name", Values: ["/k3sinfra/c1/k3s-token"] }],
        }),
      )
    ).Parameters![0]!;
    expect(meta).toMatchObject({ KeyId: "alias/aws/ssm", Version: 2, Tier: "Standard" });
    const oneLevel = await c.ssm.send(
      new GetParametersByPathCommand({ Path: "/k3sinfra/c1", WithDecryption: true }),
    );
    expect(oneLevel.Parameters?.map((p) => p.Name)).toEqual(["/k3sinfra/c1/big", "/k3sinfra/c1/k3s-token"]);
    const deep = await c.ssm.send(new GetParametersByPathCommand({ Path: "/k3sinfra/c1/", Recursive: true }));
    expect(deep.Parameters?.map((p) => p.Name)).toContain("/k3sinfra/c1/nested/a");
    await c.ssm.send(
      new AddTagsToResourceCommand({
        ResourceType: "Parameter",
        ResourceId: "/k3sinfra/c1/big",
        Tags: [{ Key: "k", Value: "v" }],
      }),
    );
    await c.ssm.send(
      new RemoveTagsFromResourceCommand({
        ResourceType: "Parameter",
        ResourceId: "/k3sinfra/c1/big",
        TagKeys: ["k"],
      }),
    );
    expect(
      (
        await c.ssm.send(
          new ListTagsForResourceCommand({ ResourceType: "Parameter", ResourceId: "/k3sinfra/c1/big" }),
        )
      ).TagList,
    ).toEqual([]);
    const inv = JSON.stringify(emu.inventory());
    expect(inv).toContain('"type":"ssm-parameter"');
    expect(inv).not.toContain(SECRET);
    await c.ssm.send(new DeleteParameterCommand({ Name: "/k3sinfra/c1/nested/a" }));
    expect(
      (await failure(c.ssm.send(new DeleteParameterCommand({ Name: "/k3sinfra/c1/nested/a" })))).name,
    ).toBe("ParameterNotFound");
    const many = await c.ssm.send(
      new DeleteParametersCommand({ Names: ["/k3sinfra/c1/big", "/k3sinfra/c1/none"] }),
    );
    expect(many).toMatchObject({
      DeletedParameters: ["/k3sinfra/c1/big"],
      InvalidParameters: ["/k3sinfra/c1/none"],
    });
  });
});

describe("an instance's role credentials", () => {
  let instanceId: string;
  let role: ReturnType<typeof clients>;
  const arn = (name: string) => `arn:aws:ssm:${REGION}:123456789012:parameter${name}`;

  beforeAll(async () => {
    await c.iam.send(new CreateRoleCommand({ RoleName: "node", AssumeRolePolicyDocument: TRUST }));
    await c.iam.send(
      new PutRolePolicyCommand({
        RoleName: "node",
        PolicyName: "secrets",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["ssm:GetParameter", "ssm:GetParameters"],
              Resource: arn("/k3sinfra/c1/*"),
            },
            { Effect: "Deny", Action: "ssm:GetParameter", Resource: arn("/k3sinfra/c1/admin-*") },
          ],
        }),
      }),
    );
    await c.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: "node" }));
    await c.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "node", RoleName: "node" }));
    now += 10_000;
    const run = await c.ec2.send(
      new RunInstancesCommand({
        ImageId: IMAGE,
        InstanceType: "t3.small",
        MinCount: 1,
        MaxCount: 1,
        IamInstanceProfile: { Name: "node" },
      }),
    );
    instanceId = run.Instances![0]!.InstanceId!;
    await c.ssm.send(
      new PutParameterCommand({
        Name: "/k3sinfra/c1/admin-password",
        Value: "AdminPw-xyz",
        Type: "SecureString",
      }),
    );
    const imds = emu.imdsEndpoint(instanceId);
    const token = await (
      await fetch(`${imds}/latest/api/token`, {
        method: "PUT",
        headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" },
      })
    ).text();
    const get = async (path: string) =>
      (await fetch(`${imds}${path}`, { headers: { "x-aws-ec2-metadata-token": token } })).text();
    const roleName = await get("/latest/meta-data/iam/security-credentials/");
    const creds = JSON.parse(await get(`/latest/meta-data/iam/security-credentials/${roleName}`)) as Record<
      string,
      string
    >;
    expect(creds.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    role = clients(emu, {
      accessKeyId: creds.AccessKeyId!,
      secretAccessKey: creds.SecretAccessKey!,
      sessionToken: creds.Token!,
    });
  });

  it("reads its cluster's parameters, decrypted; anything else is AccessDeniedException with the real wording", async () => {
    const got = await role.ssm.send(
      new GetParameterCommand({ Name: "/k3sinfra/c1/k3s-token", WithDecryption: true }),
    );
    expect(got.Parameter?.Value).toBe(`${SECRET}-2`);
    const other = await failure(role.ssm.send(new GetParameterCommand({ Name: "/k3sinfra/c2/k3s-token" })));
    expect(other).toEqual({
      name: "AccessDeniedException",
      message: `User: arn:aws:sts::123456789012:assumed-role/node/${instanceId} is not authorized to perform: ssm:GetParameter on resource: ${arn("/k3sinfra/c2/k3s-token")} because no identity-based policy allows the ssm:GetParameter action`,
      status: 400,
    });
    const denied = await failure(
      role.ssm.send(new GetParameterCommand({ Name: "/k3sinfra/c1/admin-password" })),
    );
    expect(denied.message).toContain("with an explicit deny in an identity-based policy");
    const put = await failure(
      role.ssm.send(new PutParameterCommand({ Name: "/k3sinfra/c1/k3s-token", Value: "x", Overwrite: true })),
    );
    expect(put.name).toBe("AccessDeniedException");
    const batch = await failure(
      role.ssm.send(
        new GetParametersCommand({ Names: ["/k3sinfra/c1/k3s-token", "/k3sinfra/c2/k3s-token"] }),
      ),
    );
    expect(batch.name).toBe("AccessDeniedException");
    expect(await failure(role.iam.send(new ListRolesCommand({})))).toMatchObject({
      name: "AccessDenied",
      status: 403,
    });
    // The static key keeps full access.
    expect(
      (await c.ssm.send(new GetParameterCommand({ Name: "/k3sinfra/c2/k3s-token" }))).Parameter?.Name,
    ).toBe("/k3sinfra/c2/k3s-token");
  });

  it("the managed Session Manager core policy grants ssm:GetParameter on every parameter", async () => {
    await c.iam.send(new AttachRolePolicyCommand({ RoleName: "node", PolicyArn: CORE }));
    try {
      const other = await role.ssm.send(
        new GetParameterCommand({ Name: "/k3sinfra/c2/k3s-token", WithDecryption: true }),
      );
      expect(other.Parameter?.Value).toBe("other");
      // An explicit deny still wins over it.
      expect(
        (await failure(role.ssm.send(new GetParameterCommand({ Name: "/k3sinfra/c1/admin-password" })))).name,
      ).toBe("AccessDeniedException");
    } finally {
      await c.iam.send(new DetachRolePolicyCommand({ RoleName: "node", PolicyArn: CORE }));
    }
  });

  it("a tampered token, a wrong secret or a deleted role are refused; credentials expire", async () => {
    const cfg = await role.ssm.config.credentials();
    const forged = clients(emu, { ...cfg, sessionToken: `${cfg.sessionToken}x` });
    expect(
      (await failure(forged.ssm.send(new GetParameterCommand({ Name: "/k3sinfra/c1/k3s-token" })))).name,
    ).toBe("UnrecognizedClientException");
    const wrongSecret = clients(emu, { ...cfg, secretAccessKey: "not-the-secret" });
    expect(
      (await failure(wrongSecret.ssm.send(new GetParameterCommand({ Name: "/k3sinfra/c1/k3s-token" })))).name,
    ).toBe("InvalidSignatureException");
    now += 6 * 3600_000 + 3600_000;
    try {
      expect(
        (await failure(role.ssm.send(new GetParameterCommand({ Name: "/k3sinfra/c1/k3s-token" })))).name,
      ).toBe("ExpiredTokenException");
    } finally {
      now -= 6 * 3600_000 + 3600_000;
    }
    await c.iam.send(
      new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: "node", RoleName: "node" }),
    );
    await c.iam.send(new DeleteRolePolicyCommand({ RoleName: "node", PolicyName: "secrets" }));
    await c.iam.send(new DeleteRoleCommand({ RoleName: "node" }));
    expect(
      (await failure(role.ssm.send(new GetParameterCommand({ Name: "/k3sinfra/c1/k3s-token" })))).name,
    ).toBe("UnrecognizedClientException");
  });
});

describe("the persisted state", () => {
  it("is 0600 in a 0700 directory it created, holds no SecureString value, and reopens them after a restart", async () => {
    expect(statSync(join(dir, "state")).mode & 0o777).toBe(0o700);
    expect(statSync(persistPath).mode & 0o777).toBe(0o600);
    const text = readFileSync(persistPath, "utf8");
    expect(text).toContain("/k3sinfra/c1/k3s-token");
    for (const secret of [SECRET, `${SECRET}-2`, "AdminPw-xyz"]) expect(text).not.toContain(secret);
    const again = await startEmulator({ persistPath, clock: () => now, log: () => {} });
    try {
      const got = await clients(again).ssm.send(
        new GetParameterCommand({ Name: "/k3sinfra/c1/k3s-token", WithDecryption: true }),
      );
      expect(got.Parameter?.Value).toBe(`${SECRET}-2`);
    } finally {
      await again.stop();
    }
  });
});

// The instance metadata service on the wire, as a node's tools speak it (IAM is set up with raw Query calls:
// this package has no IAM client).
import { RunInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, start, UBUNTU_SSM } from "./helpers.js";

let c: Clients;
let now = Date.parse("2026-03-01T12:00:00Z");

async function iam(params: Record<string, string>): Promise<string> {
  const body = new URLSearchParams({ Version: "2010-05-08", ...params });
  const res = await fetch(c.emu.url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `AWS4-HMAC-SHA256 Credential=${c.emu.credentials.aws.accessKeyId}/20260301/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${params.Action}: ${res.status} ${text}`);
  return text;
}

const launch = async (extra: Record<string, unknown> = {}) =>
  (
    await c.ec2.send(
      new RunInstancesCommand({
        ImageId: UBUNTU_SSM,
        InstanceType: "t3.small",
        MinCount: 1,
        MaxCount: 1,
        UserData: Buffer.from("#cloud-config\n").toString("base64"),
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "node-0" }] }],
        ...extra,
      }),
    )
  ).Instances![0]!;

beforeAll(async () => {
  c = await start({ iamPropagationMs: 0, clock: () => now });
  await iam({
    Action: "CreateRole",
    RoleName: "node",
    AssumeRolePolicyDocument: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    }),
  });
  await iam({ Action: "CreateInstanceProfile", InstanceProfileName: "node" });
  await iam({ Action: "AddRoleToInstanceProfile", InstanceProfileName: "node", RoleName: "node" });
});
afterAll(() => c.emu.stop());

const token = async (base: string, ttl = "21600", headers: Record<string, string> = {}) =>
  fetch(`${base}/latest/api/token`, {
    method: "PUT",
    headers: { "x-aws-ec2-metadata-token-ttl-seconds": ttl, ...headers },
  });

describe("IMDSv2", () => {
  it("a session token is required (HttpTokens required by default) and bound to its instance and lifetime", async () => {
    const a = await launch({ IamInstanceProfile: { Name: "node" } });
    const b = await launch();
    const base = c.emu.imdsEndpoint(a.InstanceId!);
    expect((await fetch(`${base}/latest/meta-data/instance-id`)).status).toBe(401);
    expect((await token(base, "0")).status).toBe(400);
    expect((await token(base, "21601")).status).toBe(400);
    expect((await token(base, "60", { "x-forwarded-for": "10.0.0.1" })).status).toBe(403);
    const res = await token(base, "60");
    expect(res.headers.get("x-aws-ec2-metadata-token-ttl-seconds")).toBe("60");
    const t = await res.text();
    const get = (path: string, tok = t, at = base) =>
      fetch(`${at}${path}`, { headers: { "x-aws-ec2-metadata-token": tok } });
    expect(await (await get("/latest/meta-data/instance-id")).text()).toBe(a.InstanceId);
    expect(await (await get("/latest/meta-data/placement/region")).text()).toBe("us-east-1");
    expect(await (await get("/latest/meta-data/local-ipv4")).text()).toBe(a.PrivateIpAddress);
    expect(await (await get("/latest/user-data")).text()).toBe("#cloud-config\n");
    const doc = JSON.parse(await (await get("/latest/dynamic/instance-identity/document")).text());
    expect(doc).toMatchObject({ accountId: "123456789012", instanceId: a.InstanceId, region: "us-east-1" });
    // Another instance's metadata service does not take this token.
    expect((await get("/latest/meta-data/instance-id", t, c.emu.imdsEndpoint(b.InstanceId!))).status).toBe(
      401,
    );
    expect((await get("/latest/meta-data/instance-id", `${t}x`)).status).toBe(401);
    now += 61_000;
    expect((await get("/latest/meta-data/instance-id")).status).toBe(401);
    expect(
      (await fetch(`${c.emu.imdsEndpoint("i-0123456789abcdef0")}/latest/api/token`, { method: "PUT" }))
        .status,
    ).toBe(404);
  });

  it("serves the profile's role credentials; an instance without a profile has no iam/ tree", async () => {
    const a = await launch({ IamInstanceProfile: { Name: "node" } });
    const base = c.emu.imdsEndpoint(a.InstanceId!);
    const t = await (await token(base)).text();
    const get = async (path: string, at = base, tok = t) => {
      const res = await fetch(`${at}${path}`, { headers: { "x-aws-ec2-metadata-token": tok } });
      return { status: res.status, body: await res.text() };
    };
    expect(await get("/latest/meta-data/iam/security-credentials/")).toEqual({ status: 200, body: "node" });
    const creds = JSON.parse((await get("/latest/meta-data/iam/security-credentials/node")).body);
    expect(Object.keys(creds)).toEqual([
      "Code",
      "LastUpdated",
      "Type",
      "AccessKeyId",
      "SecretAccessKey",
      "Token",
      "Expiration",
    ]);
    expect(creds).toMatchObject({
      Code: "Success",
      Type: "AWS-HMAC",
      AccessKeyId: expect.stringMatching(/^ASIA[A-Z2-7]{16}$/),
    });
    expect(Date.parse(creds.Expiration) - now).toBeGreaterThan(5 * 3600_000);
    // The same credentials until IMDS rotates them.
    expect(JSON.parse((await get("/latest/meta-data/iam/security-credentials/node")).body).AccessKeyId).toBe(
      creds.AccessKeyId,
    );
    const info = JSON.parse((await get("/latest/meta-data/iam/info")).body);
    expect(info.InstanceProfileArn).toBe("arn:aws:iam::123456789012:instance-profile/node");
    const bare = await launch();
    const bareBase = c.emu.imdsEndpoint(bare.InstanceId!);
    const bt = await (await token(bareBase)).text();
    expect((await get("/latest/meta-data/iam/security-credentials/", bareBase, bt)).status).toBe(404);
  });

  it("instance tags only with InstanceMetadataTags enabled; HttpTokens optional allows IMDSv1", async () => {
    const off = await launch();
    const offBase = c.emu.imdsEndpoint(off.InstanceId!);
    const t = await (await token(offBase)).text();
    const offTags = await fetch(`${offBase}/latest/meta-data/tags/instance/Name`, {
      headers: { "x-aws-ec2-metadata-token": t },
    });
    expect(offTags.status).toBe(404);
    const on = await launch({ MetadataOptions: { HttpTokens: "optional", InstanceMetadataTags: "enabled" } });
    const onBase = c.emu.imdsEndpoint(on.InstanceId!);
    expect(await (await fetch(`${onBase}/latest/meta-data/tags/instance`)).text()).toBe("Name");
    expect(await (await fetch(`${onBase}/latest/meta-data/tags/instance/Name`)).text()).toBe("node-0");
  });

  it("is in the request log as service imds, and faults apply to it", async () => {
    const a = await launch();
    const base = c.emu.imdsEndpoint(a.InstanceId!);
    c.emu.addFault({ service: "imds", operation: "PutToken", kind: "throttle", atCall: 1 });
    expect((await token(base)).status).toBe(429);
    expect((await token(base)).status).toBe(200);
    c.emu.clearFaults();
    const entries = c.emu.requestLog().filter((e) => e.service === "imds" && e.operation === "PutToken");
    expect(entries.slice(-2).map((e) => [e.status, e.fault])).toEqual([
      [429, "throttle"],
      [200, undefined],
    ]);
  });
});

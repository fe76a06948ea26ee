import {
  DescribeImagesCommand,
  DescribeInstanceTypeOfferingsCommand,
  paginateDescribeInstanceTypeOfferings,
} from "@aws-sdk/client-ec2";
import { CreateDBInstanceCommand, DescribeDBEngineVersionsCommand } from "@aws-sdk/client-rds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, errorOf, start } from "./helpers.js";

// STS, SSM and ACM have no SDK client among this package's dev dependencies, so they are spoken here on the
// wire as the SDK sends them (Query and awsJson1.1); provider-aws's preflight tests drive them through the SDK.
const CERT_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555";
const UBUNTU = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";

let c: Clients;
beforeAll(async () => {
  c = await start({
    fixtures: {
      aws: {
        certificates: [
          { arn: CERT_ARN, domainName: "*.example.com", sans: ["example.com"] },
          { domainName: "pending.example.com", status: "PENDING_VALIDATION" },
        ],
        rdsEngineVersions: { mysql: ["8.4.5", "8.4.6"] },
      },
    },
  });
});
afterAll(() => c.emu.stop());

const auth = (service: string, key = c.emu.credentials.aws.accessKeyId, region = "us-east-1") =>
  `AWS4-HMAC-SHA256 Credential=${key}/20260101/${region}/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0`;

/** The parts of the JSON answers these tests read. */
interface Answer {
  __type?: string;
  message?: string;
  Parameter?: { Name: string; Value: string };
  Parameters?: { Name: string }[];
  InvalidParameters?: string[];
  Certificate?: { NotBefore?: number; NotAfter?: number };
}

const json = async (service: "ssm" | "acm", target: string, body: unknown, region = "us-east-1") => {
  const res = await fetch(c.emu.url, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": target,
      authorization: auth(service, undefined, region),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer };
};

describe("STS GetCallerIdentity", () => {
  const call = async (key?: string) => {
    const res = await fetch(c.emu.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: auth("sts", key) },
      body: "Action=GetCallerIdentity&Version=2011-06-15",
    });
    return { status: res.status, text: await res.text() };
  };

  it("names the account and the caller for the emulator's credentials", async () => {
    const { status, text } = await call();
    expect(status).toBe(200);
    expect(text).toContain("<GetCallerIdentityResult>");
    expect(text).toContain("<Account>123456789012</Account>");
    expect(text).toContain("<Arn>arn:aws:iam::123456789012:user/k3sinfra-emulator</Arn>");
    expect(text).toMatch(/<UserId>AIDA[0-9A-F]{17}<\/UserId>/);
  });

  it("refuses another access key with 403 InvalidClientTokenId", async () => {
    const { status, text } = await call("AKIADOESNOTEXIST0000");
    expect(status).toBe(403);
    expect(text).toContain("<Code>InvalidClientTokenId</Code>");
    expect(text).toContain("The security token included in the request is invalid.");
    expect(c.emu.requestLog().at(-1)).toMatchObject({
      service: "sts",
      operation: "GetCallerIdentity",
      status: 403,
    });
  });
});

describe("SSM GetParameter / GetParameters", () => {
  it("resolves the public Ubuntu parameter to the AMI RunInstances would launch", async () => {
    const { status, body } = await json("ssm", "AmazonSSM.GetParameter", { Name: UBUNTU });
    expect(status).toBe(200);
    expect(body.Parameter).toMatchObject({
      Name: UBUNTU,
      Type: "String",
      Version: 1,
      ARN: `arn:aws:ssm:us-east-1::parameter${UBUNTU}`,
    });
    const images = await c.ec2.send(new DescribeImagesCommand({ ImageIds: [body.Parameter!.Value] }));
    expect(images.Images?.[0]?.Name).toMatch(/ubuntu-noble-24.04-amd64/);
  });

  it("answers ParameterNotFound for a name that does not exist, and a version that does not", async () => {
    const missing = await json("ssm", "AmazonSSM.GetParameter", { Name: "/aws/service/nothing/here" });
    expect(missing).toMatchObject({ status: 400, body: { __type: "ParameterNotFound" } });
    const version = await json("ssm", "AmazonSSM.GetParameter", { Name: `${UBUNTU}:7` });
    expect(version).toMatchObject({ status: 400, body: { __type: "ParameterVersionNotFound" } });
  });

  it("lists unknown names of GetParameters in InvalidParameters", async () => {
    const { body } = await json("ssm", "AmazonSSM.GetParameters", { Names: [UBUNTU, "/nope"] });
    expect(body.Parameters!.map((p) => p.Name)).toEqual([UBUNTU]);
    expect(body.InvalidParameters).toEqual(["/nope"]);
  });

  it("validates against the model: at most 10 names", async () => {
    const names = Array.from({ length: 11 }, (_, i) => `/p${i}`);
    const { status, body } = await json("ssm", "AmazonSSM.GetParameters", { Names: names });
    expect(status).toBe(400);
    expect(body.__type).toBe("ValidationException");
    expect(body.message).toMatch(
      /at 'names' failed to satisfy constraint: Member must have length less than or equal to 10/,
    );
  });

  it("answers injected throttling as the JSON services do", async () => {
    c.emu.addFault({ service: "ssm", kind: "throttle", atCall: 1 });
    const { status, body } = await json("ssm", "AmazonSSM.GetParameter", { Name: UBUNTU });
    c.emu.clearFaults();
    expect(status).toBe(400);
    expect(body.__type).toBe("ThrottlingException");
  });
});

describe("ACM DescribeCertificate", () => {
  it("describes a seeded certificate: domain, SANs with the domain first, status", async () => {
    const { status, body } = await json("acm", "CertificateManager.DescribeCertificate", {
      CertificateArn: CERT_ARN,
    });
    expect(status).toBe(200);
    expect(body.Certificate).toMatchObject({
      CertificateArn: CERT_ARN,
      DomainName: "*.example.com",
      SubjectAlternativeNames: ["*.example.com", "example.com"],
      Status: "ISSUED",
      Type: "AMAZON_ISSUED",
    });
    expect(body.Certificate!.NotAfter).toBeGreaterThan(body.Certificate!.NotBefore!);
  });

  it("gives a fixture without an ARN a stable one, listed in the inventory with the defaults", async () => {
    const item = c.emu.inventory({ includeDefaults: true }).find((i) => i.name === "pending.example.com");
    expect(item).toMatchObject({ service: "acm", type: "certificate", state: "PENDING_VALIDATION" });
    const { body } = await json("acm", "CertificateManager.DescribeCertificate", {
      CertificateArn: item!.id,
    });
    expect(body.Certificate).toMatchObject({ Status: "PENDING_VALIDATION" });
    expect(body.Certificate!.NotAfter).toBeUndefined();
    expect(c.emu.inventory().some((i) => i.service === "acm")).toBe(false);
  });

  it("answers ResourceNotFoundException for an unknown ARN and from another region", async () => {
    const other = CERT_ARN.replace("5555555555", "6666666666");
    const unknown = await json("acm", "CertificateManager.DescribeCertificate", { CertificateArn: other });
    expect(unknown).toMatchObject({ status: 400, body: { __type: "ResourceNotFoundException" } });
    expect(unknown.body.message).toContain(other);
    const elsewhere = await json(
      "acm",
      "CertificateManager.DescribeCertificate",
      { CertificateArn: CERT_ARN },
      "eu-west-1",
    );
    expect(elsewhere.body.__type).toBe("ResourceNotFoundException");
  });

  it("answers InvalidArnException for a malformed ARN and ValidationException without one", async () => {
    const bad = await json("acm", "CertificateManager.DescribeCertificate", {
      CertificateArn: "not-an-acm-arn-at-all",
    });
    expect(bad.body.__type).toBe("InvalidArnException");
    const none = await json("acm", "CertificateManager.DescribeCertificate", {});
    expect(none.body).toMatchObject({ __type: "ValidationException" });
    expect(none.body.message).toMatch(
      /at 'certificateArn' failed to satisfy constraint: Member must not be null/,
    );
  });
});

describe("EC2 DescribeInstanceTypeOfferings", () => {
  const offered = async (type: string) => {
    const out = await c.ec2.send(
      new DescribeInstanceTypeOfferingsCommand({
        LocationType: "availability-zone",
        Filters: [{ Name: "instance-type", Values: [type] }],
      }),
    );
    return (out.InstanceTypeOfferings ?? []).map((o) => o.Location).sort();
  };

  it("offers current types in every us-east-1 zone but use1-az3 (us-east-1e), 5th generation there too", async () => {
    expect(await offered("m6i.xlarge")).toEqual([
      "us-east-1a",
      "us-east-1b",
      "us-east-1c",
      "us-east-1d",
      "us-east-1f",
    ]);
    expect(await offered("m5.xlarge")).toEqual([
      "us-east-1a",
      "us-east-1b",
      "us-east-1c",
      "us-east-1d",
      "us-east-1e",
      "us-east-1f",
    ]);
  });

  it("offers a type that does not exist nowhere, without an error", async () => {
    expect(await offered("t9.huge")).toEqual([]);
  });

  it("lists by zone id and by region, filters by location with wildcards, and pages", async () => {
    const byId = await c.ec2.send(
      new DescribeInstanceTypeOfferingsCommand({
        LocationType: "availability-zone-id",
        Filters: [
          { Name: "location", Values: ["use1-az3"] },
          { Name: "instance-type", Values: ["m*.large"] },
        ],
      }),
    );
    expect(byId.InstanceTypeOfferings?.map((o) => o.InstanceType).sort()).toEqual(["m5.large", "m5a.large"]);
    const region = await c.ec2.send(
      new DescribeInstanceTypeOfferingsCommand({
        Filters: [{ Name: "instance-type", Values: ["c7g.large"] }],
      }),
    );
    expect(region.InstanceTypeOfferings).toEqual([
      { InstanceType: "c7g.large", LocationType: "region", Location: "us-east-1" },
    ]);
    let pages = 0;
    const all: string[] = [];
    for await (const page of paginateDescribeInstanceTypeOfferings(
      { client: c.ec2, pageSize: 40 },
      { LocationType: "availability-zone", Filters: [{ Name: "location", Values: ["us-east-1a"] }] },
    )) {
      pages++;
      all.push(...(page.InstanceTypeOfferings ?? []).map((o) => o.InstanceType!));
    }
    expect(pages).toBeGreaterThan(1);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toContain("t3.medium");
  });

  it("refuses an unknown filter and a location type outside the model's enum", async () => {
    const filter = await errorOf(
      c.ec2.send(new DescribeInstanceTypeOfferingsCommand({ Filters: [{ Name: "vcpus", Values: ["4"] }] })),
    );
    expect(filter).toMatchObject({ name: "InvalidParameterValue" });
    const type = await errorOf(
      c.ec2.send(new DescribeInstanceTypeOfferingsCommand({ LocationType: "planet" as never })),
    );
    expect(type.name).toBe("InvalidParameterValue");
  });
});

describe("RDS engine versions from fixtures", () => {
  it("offers only the fixture's versions: DescribeDBEngineVersions and CreateDBInstance agree", async () => {
    const v80 = await c.rds.send(
      new DescribeDBEngineVersionsCommand({ Engine: "mysql", EngineVersion: "8.0" }),
    );
    expect(v80.DBEngineVersions ?? []).toEqual([]);
    const v84 = await c.rds.send(
      new DescribeDBEngineVersionsCommand({ Engine: "mysql", EngineVersion: "8.4" }),
    );
    expect(v84.DBEngineVersions?.map((v) => v.EngineVersion)).toEqual(["8.4.5", "8.4.6"]);
    const create = await errorOf(
      c.rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: "old-mysql",
          DBInstanceClass: "db.m6g.large",
          Engine: "mysql",
          EngineVersion: "8.0",
          MasterUsername: "admin",
          MasterUserPassword: "correct-horse-battery",
          AllocatedStorage: 20,
        }),
      ),
    );
    expect(create.message).toMatch(/Cannot find version 8.0 for mysql/);
  });
});

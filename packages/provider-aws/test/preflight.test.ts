import { AuthFailedError, type ClusterConfig, K3sinfraError, type ServiceKind, up } from "@k3sinfra/core";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientSettings, LazyAwsClients } from "../src/clients.js";
import type { AwsOptions } from "../src/options.js";
import { certificateCovers } from "../src/preflight/certificate.js";
import { awsPreflight } from "../src/preflight/index.js";
import { ALL_ROLES, CERT, testConfig } from "./helpers.js";
import { libraryConfig, libraryOptions } from "./library.js";

const arn = (id: string) => CERT.replace(/[^/]+$/, id);
const PENDING = arn("00000000-0000-4000-8000-00000000000a");
const OTHER_DOMAIN = arn("00000000-0000-4000-8000-00000000000b");
const WILDCARD = arn("00000000-0000-4000-8000-00000000000c");
const MISSING = arn("00000000-0000-4000-8000-00000000000d");

// Anything that creates, changes or deletes: none may reach the cloud before the preflight has passed.
const MUTATING =
  /^(Create|Run|Authorize|Revoke|Change|Register|Deregister|Put|Modify|Delete|Add|Remove|Start|Stop|Terminate)/;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    timeScale: 0.001,
    seed: 3,
    log: () => undefined,
    fixtures: {
      aws: {
        hostedZones: ["example.com"],
        certificates: [
          { arn: CERT, domainName: "rancher.pfl.example.com" },
          { arn: PENDING, domainName: "rancher.pfl.example.com", status: "PENDING_VALIDATION" },
          { arn: OTHER_DOMAIN, domainName: "rancher.other.org", sans: ["*.other.org"] },
          { arn: WILDCARD, domainName: "example.com", sans: ["*.pfl.example.com"] },
        ],
        // A region where RDS no longer offers MySQL 8.0.
        rdsEngineVersions: { mysql: ["8.4.5", "8.4.6"] },
      },
    },
  });
});
afterAll(() => emulator?.stop());

const env = () => ({
  AWS_ENDPOINT_URL: emulator.endpoints.aws!,
  AWS_ACCESS_KEY_ID: emulator.credentials.aws.accessKeyId,
  AWS_SECRET_ACCESS_KEY: emulator.credentials.aws.secretAccessKey,
});

/** Runs the AWS preflight for a config; returns what it threw (undefined when it passed) and the requests it made. */
const preflight = async (
  extra: Record<string, unknown> = {},
  options: AwsOptions = {},
  over: { env?: Record<string, string>; roles?: readonly ServiceKind[] } = {},
) => {
  const config: ClusterConfig = testConfig("pfl", { datastore: { version: "8.4" }, ...extra });
  const from = emulator.requestLog().length;
  const error = await awsPreflight({
    clients: new LazyAwsClients(clientSettings(config.region, undefined, over.env ?? env())),
    config,
    options,
    roles: over.roles ?? ALL_ROLES,
    call: { signal: AbortSignal.timeout(20_000), poll: { minDelayMs: 5, maxDelayMs: 50 } },
  }).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  const requests = emulator.requestLog().slice(from);
  expect(requests.filter((r) => MUTATING.test(r.operation))).toEqual([]);
  return { error, requests };
};

const issuesOf = (error: Error | undefined) => {
  expect(K3sinfraError.is(error, "InvalidConfig"), String(error)).toBe(true);
  return (error as unknown as { issues: { path: string; message: string }[] }).issues;
};

describe("AWS preflight", () => {
  it("passes a sound config with read calls only: identity, zones, offerings, image, engine versions, zone", async () => {
    const { error, requests } = await preflight();
    expect(error).toBeUndefined();
    expect(new Set(requests.map((r) => `${r.service}:${r.operation}`))).toEqual(
      new Set([
        "sts:GetCallerIdentity",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeInstanceTypeOfferings",
        "ssm:GetParameter",
        "rds:DescribeDBEngineVersions",
        "route53:ListHostedZonesByName",
      ]),
    );
  });

  it("refuses an instance type EC2 does not offer (t9.huge), naming options.aws.instanceType", async () => {
    const issues = issuesOf((await preflight({}, { instanceType: "t9.huge" })).error);
    expect(issues).toEqual([
      {
        path: "options.aws.instanceType",
        message: expect.stringMatching(
          /'t9.huge' is not an instance type EC2 offers in us-east-1: check its spelling/,
        ),
      },
    ]);
  });

  it("refuses zones where the type derived from nodes.size is not offered, and names where it is", async () => {
    const issues = issuesOf((await preflight({ zones: ["us-east-1a", "us-east-1e"] })).error);
    expect(issues).toEqual([
      {
        path: "nodes.size",
        message: expect.stringMatching(
          /maps to m6i.xlarge, which is not offered in us-east-1e; it is offered in us-east-1a, .*us-east-1f: choose zones among those, or set nodes.instanceType/,
        ),
      },
    ]);
  });

  it("names a zone the region does not have", async () => {
    const issues = issuesOf((await preflight({ zones: ["us-east-1a", "us-east-1z"] })).error);
    expect(issues).toEqual([
      {
        path: "zones",
        message: expect.stringMatching(/^us-east-1z is not available to this account in us-east-1/),
      },
    ]);
  });

  it("refuses an engine version RDS does not offer in the region, listing what it does", async () => {
    const issues = issuesOf((await preflight({ datastore: { version: "8.0" } })).error);
    expect(issues).toEqual([
      {
        path: "datastore.version",
        message: "RDS does not offer mysql 8.0 in us-east-1; it offers 8.4: use one of those",
      },
    ]);
  });

  it("refuses an AMI id that does not exist, naming options.aws.amiId", async () => {
    const issues = issuesOf((await preflight({}, { amiId: "ami-0123456789abcdef0" })).error);
    expect(issues).toEqual([
      { path: "options.aws.amiId", message: expect.stringMatching(/ami-0123456789abcdef0 is not an AMI/) },
    ]);
  });

  it("says to create the hosted zone when Route 53 has none", async () => {
    const issues = issuesOf(
      (await preflight({ dns: { zone: "nowhere.org" }, rancher: { hostname: "rancher.nowhere.org" } })).error,
    );
    expect(issues).toEqual([
      {
        path: "dns.zone",
        message: expect.stringMatching(/no Route 53 hosted zone named nowhere.org.*options.aws.hostedZoneId/),
      },
    ]);
  });

  it("refuses credentials STS does not accept, naming the variables, and nothing else", async () => {
    const { error } = await preflight(
      {},
      { instanceType: "t9.huge" },
      { env: { ...env(), AWS_ACCESS_KEY_ID: "AKIAWRONGKEY00000000" } },
    );
    expect(error).toBeInstanceOf(AuthFailedError);
    expect(error!.message).toMatch(/STS GetCallerIdentity failed: InvalidClientTokenId/);
    expect(error!.message).toMatch(/AWS_ACCESS_KEY_ID.*AWS_PROFILE/);
  });

  describe("the L7 certificate", () => {
    const l7 = (certificate: string, hostname = "rancher.pfl.example.com") => ({
      loadBalancer: { mode: "l7", certificate },
      rancher: { hostname },
    });

    it("passes an issued certificate for the host name, and a wildcard SAN one level up", async () => {
      expect((await preflight(l7(CERT))).error).toBeUndefined();
      const { error, requests } = await preflight(l7(WILDCARD));
      expect(error).toBeUndefined();
      expect(requests.map((r) => r.operation)).toContain("DescribeCertificate");
    });

    it("refuses an ARN ACM does not know, saying how to get one", async () => {
      const issues = issuesOf((await preflight(l7(MISSING))).error);
      expect(issues).toEqual([
        {
          path: "loadBalancer.certificate",
          message: expect.stringMatching(
            /^no ACM certificate .* in this account in us-east-1: request one for rancher.pfl.example.com/,
          ),
        },
      ]);
    });

    it("refuses a certificate that is not issued yet", async () => {
      const issues = issuesOf((await preflight(l7(PENDING))).error);
      expect(issues).toEqual([
        {
          path: "loadBalancer.certificate",
          message: expect.stringMatching(/^is PENDING_VALIDATION, not ISSUED: finish its validation/),
        },
      ]);
    });

    it("refuses a certificate for another domain, listing the names it covers", async () => {
      const issues = issuesOf((await preflight(l7(OTHER_DOMAIN))).error);
      expect(issues).toEqual([
        {
          path: "loadBalancer.certificate",
          message:
            "covers rancher.other.org, *.other.org but not rancher.hostname rancher.pfl.example.com: use a certificate for rancher.pfl.example.com (or *.pfl.example.com), or change rancher.hostname",
        },
      ]);
    });

    it("matches wildcards one label deep, case-insensitively", () => {
      expect(certificateCovers("*.example.com", "Rancher.Example.com")).toBe(true);
      expect(certificateCovers("*.example.com", "example.com")).toBe(false);
      expect(certificateCovers("*.example.com", "a.rancher.example.com")).toBe(false);
      expect(certificateCovers("rancher.example.com", "rancher.example.com.")).toBe(true);
      expect(certificateCovers("rancher.example.com", "rancher2.example.com")).toBe(false);
    });
  });

  it("before destroy checks the credentials only: a certificate or version gone since creation blocks nothing", async () => {
    const config: ClusterConfig = testConfig("pfl", {
      datastore: { version: "8.0" },
      loadBalancer: { mode: "l7", certificate: MISSING },
    });
    const run = (env: Record<string, string>) =>
      awsPreflight({
        clients: new LazyAwsClients(clientSettings(config.region, undefined, env)),
        config,
        options: { instanceType: "t9.huge" },
        roles: ALL_ROLES,
        call: { signal: AbortSignal.timeout(20_000), poll: { minDelayMs: 5, maxDelayMs: 50 } },
        operation: "destroy",
      });
    const from = emulator.requestLog().length;
    await run(env());
    expect(
      emulator
        .requestLog()
        .slice(from)
        .map((r) => r.operation),
    ).toEqual(["GetCallerIdentity"]);
    await expect(run({ ...env(), AWS_ACCESS_KEY_ID: "AKIAWRONGKEY00000000" })).rejects.toBeInstanceOf(
      AuthFailedError,
    );
  });

  it("up reports every failure of one config together, before any mutating request", async () => {
    const name = "pfall";
    const input = {
      ...libraryConfig(name),
      datastore: { version: "8.0", deletionProtection: false, check: "off" },
      loadBalancer: { mode: "l7", certificate: MISSING },
      dns: { zone: "nowhere.org" },
      rancher: { hostname: "rancher.nowhere.org" },
      options: { aws: { instanceType: "t9.huge", amiId: "ami-0123456789abcdef0" } },
    } as Parameters<typeof up>[0];
    const from = emulator.requestLog().length;
    const error = await up(input, libraryOptions(emulator.endpoints.aws!, emulator).options).catch(
      (e: Error) => e,
    );
    const requests = emulator.requestLog().slice(from);
    expect(requests.filter((r) => MUTATING.test(r.operation))).toEqual([]);
    expect(
      issuesOf(error as Error)
        .map((i) => i.path)
        .sort(),
    ).toEqual([
      "datastore.version",
      "dns.zone",
      "loadBalancer.certificate",
      "options.aws.amiId",
      "options.aws.instanceType",
    ]);
    expect(String((error as Error).message)).toMatch(/'t9.huge' is not an instance type EC2 offers/);
  });
});

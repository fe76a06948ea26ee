import { fileURLToPath } from "node:url";
import { AuthFailedError, K3sinfraError, ProviderRegistry, validateConfig } from "@k3sinfra/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolvedModules } from "../../../test/support/resolved-modules.js";
import awsDefault, { AwsDnsRecordService, aws, LazyAwsClients, mapAwsError } from "../src/index.js";
import { ALL_ROLES, CERT, type Harness, startHarness, testConfig } from "./helpers.js";

describe("aws descriptor", () => {
  it("is the default and the named export, with capabilities as data", () => {
    expect(awsDefault).toBe(aws);
    expect(aws.name).toBe("aws");
    expect(aws.capabilities).toMatchObject({
      services: ["network", "nodes", "datastore", "loadBalancer", "dns", "secretStore"],
      loadBalancerModes: ["l4", "l7"],
      loadBalancerAddress: "hostname",
      l7NeedsCertificate: true,
      dnsRecordTypes: ["A", "CNAME", "ALIAS"],
      datastoreEngines: [{ engine: "mysql", versions: ["8.0", "8.4"] }],
      datastoreTls: "required",
      credentialEnv: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"],
    });
    expect(aws.capabilities.zones?.["us-east-1"]).toEqual([
      "us-east-1a",
      "us-east-1b",
      "us-east-1c",
      "us-east-1d",
      "us-east-1e",
      "us-east-1f",
    ]);
    expect(aws.capabilities.zones?.["eu-central-1"]).toHaveLength(3);
  });

  it("parses options.aws, with issue paths relative to the block", () => {
    expect(aws.parseOptions!(undefined)).toEqual({ ok: true, value: {} });
    expect(
      aws.parseOptions!({
        vpcId: "vpc-0123456789abcdef0",
        subnetIds: { "us-east-1a": "subnet-0123456789abcdef0" },
      }),
    ).toMatchObject({ ok: true });
    expect(aws.parseOptions!({ hostedZoneId: "/hostedzone/Z0123ABC" })).toEqual({
      ok: true,
      value: { hostedZoneId: "Z0123ABC" },
    });
    const bad = aws.parseOptions!({
      vpcId: "vpc-nope",
      subnetIds: { "us-east-1a": "sn-1" },
      multiAz: "yes",
      amiId: "ubuntu",
      colour: "blue",
    });
    expect(bad.ok).toBe(false);
    const paths = bad.ok ? [] : bad.issues.map((i) => i.path).sort();
    expect(paths).toEqual(["amiId", "colour", "multiAz", "subnetIds.us-east-1a", "vpcId"]);
    expect(aws.parseOptions!("x")).toMatchObject({ ok: false, issues: [{ path: "" }] });
  });

  it("validates what depends on AWS: certificate, zones, instance types, images", () => {
    const validate = (extra: Record<string, unknown>, options = {}) =>
      aws.validate!(testConfig("val", extra), options, ALL_ROLES).map((i) => `${i.path}: ${i.message}`);
    expect(validate({})).toEqual([]);
    expect(validate({ loadBalancer: { mode: "l7", certificate: CERT } })).toEqual([]);
    // 6000 s is fine for an NLB's TCP listener, but an ALB stops at 4000 s.
    expect(validate({ loadBalancer: { mode: "l4", idleTimeoutSeconds: 6000 } })).toEqual([]);
    expect(validate({ loadBalancer: { mode: "l7", certificate: CERT, idleTimeoutSeconds: 4001 } })).toEqual([
      expect.stringMatching(/^loadBalancer.idleTimeoutSeconds: .*at most 4000/),
    ]);
    expect(validate({ loadBalancer: { mode: "l7" } })).toEqual([
      expect.stringMatching(/^loadBalancer.certificate: is required/),
    ]);
    expect(validate({ loadBalancer: { mode: "l7", certificate: "my-cert" } })).toEqual([
      expect.stringMatching(/must be an ACM certificate ARN/),
    ]);
    expect(
      validate({ loadBalancer: { mode: "l7", certificate: CERT.replace("us-east-1", "eu-west-1") } }),
    ).toEqual([expect.stringMatching(/is in eu-west-1 but the load balancer is in us-east-1/)]);
    expect(validate({ loadBalancer: { mode: "l4", certificate: CERT } })).toEqual([
      expect.stringMatching(/only used with mode l7/),
    ]);
    expect(validate({ zones: ["us-east-1a", "eu-west-1b"] })).toEqual([
      expect.stringMatching(/^zones\[1\]: 'eu-west-1b' is not an availability zone of us-east-1/),
    ]);
    expect(validate({ zones: ["us-east-1a"] })).toEqual([expect.stringMatching(/at least 2 zones/)]);
    expect(validate({ nodes: { instanceType: "huge" } })).toEqual([
      expect.stringMatching(/^nodes.instanceType: 'huge' is not an EC2 instance type/),
    ]);
    expect(validate({ nodes: { instanceType: "m7g.xlarge" } })).toEqual([expect.stringMatching(/arm64/)]);
    expect(validate({ nodes: { instanceType: "m7g.xlarge" } }, { amiId: "ami-0123456789abcdef0" })).toEqual(
      [],
    );
    expect(validate({ nodes: { image: "windows" } })).toEqual([expect.stringMatching(/^nodes.image:/)]);
    expect(validate({ nodes: { size: { vcpus: 512, memoryGiB: 4096 } } })).toEqual([
      expect.stringMatching(/^nodes.size: is larger/),
    ]);
    expect(validate({ datastore: { instanceClass: "m6g.large" } })).toEqual([
      expect.stringMatching(/^datastore.instanceClass/),
    ]);
    expect(validate({}, { subnetIds: { "us-east-1a": "subnet-0123456789abcdef0" } })).toEqual([
      "options.aws.subnetIds: has no subnet for zone us-east-1b",
      "options.aws.vpcId: is required with options.aws.subnetIds",
    ]);
    // DNS-only use (compute elsewhere) checks nothing about regions or nodes.
    expect(aws.validate!(testConfig("val", { region: "moon-1" }), {}, ["dns"])).toEqual([]);
  });

  it("returns one plain service per requested role, and the clients they share", () => {
    const env = { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b" };
    const ctx = { config: testConfig("reg"), options: {}, env, baseDir: process.cwd() };
    const only = aws.services({ ...ctx, roles: ["dns"] });
    expect(only.dns).toBeInstanceOf(AwsDnsRecordService);
    expect([only.network, only.nodes, only.datastore, only.loadBalancer]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    const all = aws.services({ ...ctx, roles: ALL_ROLES });
    for (const role of ALL_ROLES) expect(all[role], role).toBeDefined();
    expect(typeof all.nodes?.publish).toBe("function");
    expect(all.clients).toBeInstanceOf(LazyAwsClients);
    // A second call is a second cluster's (or process's) set: nothing is shared between them.
    expect(aws.services({ ...ctx, roles: ALL_ROLES }).clients).not.toBe(all.clients);
  });

  it("maps SDK errors to core errors", () => {
    const sdk = (name: string, status = 400, extra: Record<string, unknown> = {}) =>
      Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status }, ...extra });
    expect(mapAwsError(sdk("InvalidInstanceID.NotFound"), "x").code).toBe("NotFound");
    expect(mapAwsError(sdk("DBInstanceNotFoundFault", 404), "x").code).toBe("NotFound");
    expect(mapAwsError(sdk("InvalidGroup.Duplicate"), "x").code).toBe("AlreadyExists");
    expect(mapAwsError(sdk("DBInstanceAlreadyExistsFault"), "x").code).toBe("AlreadyExists");
    const dep = mapAwsError(sdk("DependencyViolation"), "x");
    expect([dep.code, dep.retryable]).toEqual(["DependencyViolation", true]);
    const throttled = mapAwsError(
      sdk("RequestLimitExceeded", 503, { $response: { headers: { "retry-after": "3" } } }),
      "x",
    );
    expect([throttled.code, throttled.retryable, throttled.retryAfterSeconds]).toEqual([
      "Throttled",
      true,
      3,
    ]);
    expect(mapAwsError(sdk("InstanceLimitExceeded"), "x").code).toBe("QuotaExceeded");
    for (const name of [
      "AuthFailure",
      "UnrecognizedClientException",
      "InvalidClientTokenId",
      "SignatureDoesNotMatch",
    ]) {
      const e = mapAwsError(sdk(name, 401), "EC2 DescribeAvailabilityZones");
      expect(e).toBeInstanceOf(AuthFailedError);
      expect(e.message).toMatch(/AWS_ACCESS_KEY_ID.*AWS_PROFILE/);
    }
    expect(
      mapAwsError(Object.assign(new Error("no creds"), { name: "CredentialsProviderError" }), "x").code,
    ).toBe("AuthFailed");
    const transient = mapAwsError(sdk("InternalError", 500), "x");
    expect([transient.code, transient.retryable]).toEqual(["ProviderError", true]);
    const scrubbed = mapAwsError(
      sdk("InvalidParameterValue", 400, { message: "bad password hunter2hunter2" }),
      "x",
      ["hunter2hunter2"],
    );
    expect(scrubbed.message).not.toContain("hunter2hunter2");
  });
});

describe("preflight", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, "pref");
  });
  afterAll(() => h?.stop());
  const ctx = (over: Partial<Parameters<typeof aws.services>[0]> = {}) => ({
    config: testConfig("pref"),
    options: {},
    roles: ALL_ROLES,
    env: h.env,
    baseDir: process.cwd(),
    ...over,
  });
  const preflight = (c: ReturnType<typeof ctx>) =>
    aws.preflight!(aws.services(c), c, AbortSignal.timeout(10_000)).catch((e: unknown) => e);

  it("passes with working credentials, a known zone list and an existing hosted zone", async () => {
    expect(await preflight(ctx())).toBeUndefined();
  });

  it("names the zone that does not exist", async () => {
    const c = ctx({ config: testConfig("pref", { zones: ["us-east-1a", "us-east-1z"] }) });
    const error = (await preflight(c)) as Error;
    expect(K3sinfraError.is(error, "InvalidConfig")).toBe(true);
    expect(error.message).toMatch(/us-east-1z is not available/);
  });

  it("says to create the hosted zone or set options.aws.hostedZoneId when Route 53 has none", async () => {
    const c = ctx({
      config: testConfig("pref", { dns: { zone: "nowhere.org" }, rancher: { hostname: "r.nowhere.org" } }),
    });
    const error = (await preflight(c)) as Error;
    expect(K3sinfraError.is(error, "InvalidConfig")).toBe(true);
    expect(error.message).toMatch(
      /dns.zone: no Route 53 hosted zone named nowhere.org.*options.aws.hostedZoneId/s,
    );
  });

  it("maps missing credentials to AuthFailedError naming the variables", async () => {
    const c = ctx({ env: { AWS_ENDPOINT_URL: h.env.AWS_ENDPOINT_URL! }, roles: ["network"] });
    // No credentials anywhere: the SDK's default chain fails with CredentialsProviderError.
    const saved = { ...process.env };
    for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"])
      delete process.env[k];
    process.env.AWS_EC2_METADATA_DISABLED = "true";
    process.env.AWS_CONFIG_FILE = "/nonexistent";
    process.env.AWS_SHARED_CREDENTIALS_FILE = "/nonexistent";
    try {
      const error = (await preflight(c)) as Error;
      expect(error).toBeInstanceOf(AuthFailedError);
      expect(error.message).toMatch(/AWS_ACCESS_KEY_ID/);
      expect(error.message).toMatch(/AWS_PROFILE/);
    } finally {
      process.env = saved;
    }
  });
});

describe("lazy loading", () => {
  it("importing the package loads no @aws-sdk module", () => {
    const loaded = resolvedModules(
      "packages/provider-aws",
      `const m = await import("@k3sinfra/provider-aws");
       if (!m.default || m.default.name !== "aws") throw new Error("no descriptor");`,
    );
    expect(loaded.some((s) => s.includes("@k3sinfra/core") || s.includes("provider-aws"))).toBe(true);
    expect(loaded.filter((s) => s.includes("@aws-sdk") || s.includes("@smithy"))).toEqual([]);
  });
});

describe("examples", () => {
  for (const file of ["aws.yaml", "aws-l7.yaml"]) {
    it(`examples/${file} is a valid AWS config`, async () => {
      const root = fileURLToPath(new URL("../../../examples/", import.meta.url));
      const config = await validateConfig(file, {
        baseDir: root,
        registry: new ProviderRegistry().register(aws),
      });
      expect(config.provider).toBe("aws");
      expect(config.datastore.deletionProtection).toBe(false);
      expect(config.loadBalancer.mode).toBe(file === "aws.yaml" ? "l4" : "l7");
    });
  }
});

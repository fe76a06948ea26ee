import { describe, expect, it } from "vitest";
import { isMoot, parseConfig } from "../src/config/load.js";
import { closest, editDistance } from "../src/config/messages.js";
import { riskyChoices } from "../src/config/risky.js";
import {
  type ConfigIssue,
  InvalidConfigError,
  ProviderRegistry,
  plan,
  up,
  validateConfig,
} from "../src/index.js";
import { createMemoryProvider, MemoryCloud, memoryCapabilities } from "../src/testing/index.js";
import { memoryConfig, world } from "./helpers.js";

const issuesOf = async (spec: unknown, options = world().options): Promise<readonly ConfigIssue[]> => {
  const error = await validateConfig(spec as never, options).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidConfigError);
  return (error as InvalidConfigError).issues;
};
const at = (issues: readonly ConfigIssue[], path: string) => issues.find((i) => i.path === path)?.message;

describe("one pass: every mistake of a config at once", () => {
  it("reports five independent mistakes (schema, unknown key, cross-field, provider) together", async () => {
    const w = world();
    const issues = await issuesOf(
      {
        ...memoryConfig(),
        nodes: { count: 9 }, // schema: too big
        loadbalancer: { mode: "l7" }, // unknown key, a typo
        zones: ["memory-1a", "mars-1b"], // provider: not a zone of the region
        rancher: { hostname: "rancher.other.org" }, // cross-field: outside dns.zone
        datastore: { version: "5.7" }, // schema: invalid enum
      },
      w.options,
    );
    expect(issues.map((i) => i.path).sort()).toEqual(
      ["datastore.version", "loadbalancer", "nodes.count", "rancher.hostname", "zones[1]"].sort(),
    );
    expect(at(issues, "loadbalancer")).toBe("is not a key k3sinfra knows: did you mean 'loadBalancer'?");
    expect(at(issues, "nodes.count")).toBe("is 9, over the maximum of 7: use 7 or less");
    expect(w.cloud.calls).toEqual([]);
  });

  it("puts no library wording in any message", async () => {
    const issues = await issuesOf({
      ...memoryConfig(),
      nodes: { count: 1.5, diskGiB: 99999, size: { vcpus: "four" }, adminCidrs: "10.0.0.0/8" },
      datastore: { storageGiB: 5, highAvailability: "yes" },
      loadBalancer: { clientCidrs: [] },
      dns: { zone: "example.com", ttl: 1 },
      state: 3,
    });
    expect(issues.length).toBeGreaterThanOrEqual(8);
    for (const i of issues)
      expect(i.message).not.toMatch(/Too big|Too small|Invalid input|expected \w+, received/i);
    expect(at(issues, "nodes.count")).toBe("must be a whole number, not 1.5");
    expect(at(issues, "nodes.size.vcpus")).toBe("must be a number, not the text 'four'");
    expect(at(issues, "nodes.adminCidrs")).toBe("must be a list, not the text '10.0.0.0/8'");
    expect(at(issues, "datastore.highAvailability")).toBe("must be true or false, not the text 'yes'");
    expect(at(issues, "loadBalancer.clientCidrs")).toBe("must not be empty");
    expect(at(issues, "state")).toBe("must be a mapping (key: value lines), not 3");
  });

  it("suggests an allowed value for a misspelt choice, and lists them otherwise", async () => {
    const issues = await issuesOf({
      ...memoryConfig(),
      loadBalancer: { mode: "L7" },
      datastore: { check: "requried" },
    });
    expect(at(issues, "loadBalancer.mode")).toMatch(/l4 .* or l7 .*; did you mean 'l7'\?$/);
    expect(at(issues, "datastore.check")).toMatch(/did you mean 'required'\?$/);
    const far = await issuesOf({
      ...memoryConfig(),
      rancher: { hostname: "rancher.example.com", colour: 1 },
    });
    expect(at(far, "rancher.colour")).toMatch(/allowed: hostname, version, replicas/);
  });

  it("does not report what follows from a value already reported", async () => {
    // A mode that did not parse must not make the certificate "only used with l7"; a region that is not one
    // must not make every zone "not a zone of" it.
    const issues = await issuesOf({
      ...memoryConfig(),
      region: 42,
      zones: ["memory-1a", "memory-1b"],
      loadBalancer: { mode: "L7", certificate: "cert-1" },
    });
    expect(issues.map((i) => i.path).sort()).toEqual(["loadBalancer.mode", "region"]);
  });

  it("still runs the provider checks when required values are missing", async () => {
    const issues = await issuesOf({
      provider: "memory",
      region: "memory-1",
      zones: ["memory-1a", "mars-1a"],
      nodes: { count: 0 },
    });
    expect(issues.map((i) => i.path).sort()).toEqual(["dns", "name", "nodes.count", "rancher", "zones[1]"]);
    expect(at(issues, "name")).toMatch(/is required/);
  });

  it("stops at the schema when there is no provider to ask", async () => {
    const { issues } = parseConfig({ name: "x", region: "r" });
    expect(issues.map((i) => i.path).sort()).toEqual(["dns", "name", "provider", "rancher"]);
    const all = await issuesOf({ name: "abc", region: "r", dns: { zone: "example.com" } });
    expect(all.map((i) => i.path).sort()).toEqual(["provider", "rancher"]);
  });

  it("checks a hostname's whole length and each label's (RFC 1035)", async () => {
    const long = `${"a".repeat(60)}.`.repeat(4) + "example.com"; // 244 + 11 = 255 characters
    const issues = await issuesOf({ ...memoryConfig(), rancher: { hostname: long } });
    expect(at(issues, "rancher.hostname")).toBe(
      "is 255 characters long; a DNS name has at most 253 (RFC 1035): use a shorter name",
    );
    const label = await issuesOf({
      ...memoryConfig(),
      rancher: { hostname: `${"a".repeat(64)}.example.com` },
    });
    expect(at(label, "rancher.hostname")).toMatch(/label .* over 63 characters/);
  });

  it("finds typos by edit distance, never 'correcting' a version", () => {
    expect(editDistance("loadbalancer", "loadBalancer")).toBe(0);
    expect(editDistance("adminCirds", "adminCidrs")).toBe(1);
    expect(closest("zoens", ["zones", "nodes", "name"])).toBe("zones");
    expect(closest("banana", ["zones", "nodes"])).toBeUndefined();
    expect(closest("8.3", ["8.0", "8.4"])).toBeUndefined();
    expect(isMoot("zones[0]", ["region"])).toBe(true);
    expect(isMoot("zones[0]", ["nodes.count"])).toBe(false);
  });
});

describe("derived names, as the provider declares them", () => {
  const registryWith = (names: (typeof memoryCapabilities)["names"]) => {
    const cloud = new MemoryCloud();
    const base = createMemoryProvider(cloud);
    return {
      cloud,
      registry: new ProviderRegistry().register({ ...base, capabilities: { ...memoryCapabilities, names } }),
    };
  };

  it("refuses a cluster name whose derived names the cloud would refuse, naming the object and the fix", async () => {
    const { cloud, registry } = registryWith([
      {
        object: "DB id",
        template: "{datastore}",
        maxLength: 63,
        noDoubleHyphen: true,
        noTrailingHyphen: true,
      },
      { object: "pool name", template: "{load-balancer}-443", role: "loadBalancer", maxLength: 20 },
      { object: "VM name", template: "{node}", role: "nodes", maxLength: 19 },
    ]);
    const issues = await issuesOf(
      { ...memoryConfig(), name: "rk--x1abcdef", nodes: { count: 3 } },
      {
        ...world().options,
        registry,
      },
    );
    const name = issues.filter((i) => i.path === "name").map((i) => i.message);
    expect(name).toEqual([
      "makes the memory DB id 'k3s-rk--x1abcdef-db', which may not contain two hyphens in a row: choose a name without '--'",
      // Of two length limits on the name (the pool's allows 9 characters), the tightest is the one to meet.
      // The node name is checked with a three-digit generation: k3s-rk--x1abcdef-n2-g999 is 24.
      "makes the memory VM name 'k3s-rk--x1abcdef-n2-g999', which is 24 characters long, over the limit of 19: use a name of at most 7 characters",
    ]);
    expect(cloud.calls).toEqual([]);
  });

  it("files a value built from the hostname under rancher.hostname, with the tightest limit", async () => {
    const { registry } = registryWith([
      { object: "comment", template: "k3sinfra {cluster}: delete {hostname}", role: "dns", maxLength: 40 },
      { object: "TXT name", template: "_k3sinfra.{hostname}", role: "dns", maxLength: 30 },
    ]);
    const issues = await issuesOf(
      { ...memoryConfig(), rancher: { hostname: "rancher-dashboard.example.com" } },
      { ...world().options, registry },
    );
    expect(issues).toEqual([
      {
        path: "rancher.hostname",
        message:
          "makes the memory comment 'k3sinfra demo: delete rancher-dashboard.example.com', which is 51 characters long, over the limit of 40: use a hostname of at most 18 characters",
      },
    ]);
  });
});

describe("risky choices", () => {
  const base = () => ({ ...memoryConfig(), datastore: { deletionProtection: true } });

  it("are warnings in the plan, each with its path", async () => {
    const w = world();
    const p = await plan(
      { ...base(), nodes: { adminCidrs: ["10.0.0.0/8", "0.0.0.0/0"], sshKeyName: "me" } },
      w.options,
    );
    expect(p.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^nodes\.adminCidrs\[1\]: 0\.0\.0\.0\/0 opens the K3s API \(6443\) and SSH \(22\)/,
        ),
        expect.stringMatching(/^nodes\.sshKeyName: SSH \(22\) is open to the whole internet/),
      ]),
    );
    const quiet = await plan(base(), world().options);
    expect(quiet.warnings.filter((x) => /adminCidrs|sshKeyName|deletionProtection/.test(x))).toEqual([]);
  });

  it("are warning events during up", async () => {
    const w = world();
    await up({ ...base(), datastore: { deletionProtection: false } }, w.options);
    expect(w.events).toContainEqual({
      type: "warning",
      message: expect.stringMatching(/^datastore\.deletionProtection: is off/),
    });
  });

  it("are errors with strict, reported with every other issue and before any call", async () => {
    const w = world();
    const error = await up(
      { ...base(), nodes: { adminCidrs: ["0.0.0.0/0"], count: 8 }, datastore: { deletionProtection: false } },
      { ...w.options, strict: true },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).issues.map((i) => i.path).sort()).toEqual([
      "datastore.deletionProtection",
      "nodes.adminCidrs[0]",
      "nodes.count",
    ]);
    expect(w.cloud.calls).toEqual([]);
  });

  it("flag a datastore version near or past the cloud's end of support", async () => {
    const caps = {
      ...memoryCapabilities,
      datastoreEngines: [
        { engine: "mysql" as const, versions: ["8.0", "8.4"], endOfSupport: { "8.0": "2026-07-31" } },
      ],
    };
    const w = world();
    const config = await validateConfig({ ...base(), datastore: { version: "8.0" } }, w.options);
    const risk = (now: string) => riskyChoices(config, caps, new Date(now)).map((r) => r.message);
    expect(risk("2025-12-01T00:00:00Z")).toEqual([]);
    expect(risk("2026-03-01T00:00:00Z")).toEqual([
      "mysql 8.0 leaves the cloud's standard support on 2026-07-31, in 152 days: use 8.4",
    ]);
    expect(risk("2026-12-02T00:00:00Z")).toEqual([
      expect.stringMatching(/^mysql 8\.0 left the cloud's standard support on 2026-07-31 .*: use 8\.4$/),
    ]);
  });
});

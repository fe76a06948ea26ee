import { describe, expect, it } from "vitest";
import { configJsonSchema, InvalidConfigError, up, validateConfig } from "../src/index.js";
import { memoryConfig, world } from "./helpers.js";

const invalid: [string, Record<string, unknown>, string, RegExp][] = [
  ["missing name", { name: undefined }, "name", /required/],
  ["uppercase name", { name: "Prod" }, "name", /lowercase/],
  ["one node", { nodes: { count: 1 } }, "nodes.count", /at least 2/],
  [
    "hostname outside the zone",
    { rancher: { hostname: "rancher.other.org" } },
    "rancher.hostname",
    /not inside dns.zone/,
  ],
  ["bad hostname", { rancher: { hostname: "not a host" } }, "rancher.hostname", /fully qualified/],
  ["unknown key", { nodez: 3 }, "nodez", /not a key k3sinfra knows: did you mean 'nodes'\?/],
  ["bad CIDR", { loadBalancer: { clientCidrs: ["everyone"] } }, "loadBalancer.clientCidrs[0]", /CIDR/],
  [
    "CIDR prefix over 32",
    { loadBalancer: { clientCidrs: ["0.0.0.0/33"] } },
    "loadBalancer.clientCidrs[0]",
    /prefix 0-32/,
  ],
  [
    "a word where a number goes",
    { nodes: { size: { vcpus: 4, memoryGiB: "lots" } } },
    "nodes.size.memoryGiB",
    /must be a number, not the text 'lots'/,
  ],
  [
    "certificate on L4",
    { loadBalancer: { certificate: "cert" } },
    "loadBalancer.certificate",
    /only used with mode l7/,
  ],
  ["MySQL 5.7", { datastore: { version: "5.7" } }, "datastore.version", /8\.4/],
  ["K3s outside Rancher's range", { k3s: { version: "v1.29.3+k3s1" } }, "k3s.version", /outside Rancher/],
  ["zone unknown to the provider", { zones: ["memory-1a", "mars-1a"] }, "zones[1]", /not a zone/],
  ["unknown provider", { provider: "nimbus" }, "provider", /cannot load provider 'nimbus'/],
  ["no backups", { datastore: { backupRetentionDays: 0 } }, "datastore.backupRetentionDays", /at least 1/],
  ["proxied DNS with L4", { dns: { zone: "example.com", proxied: true } }, "dns.proxied", /strict agent TLS/],
  [
    "unknown memory option",
    { options: { memory: { colour: "blue" } } },
    "options.memory.colour",
    /not an option/,
  ],
];

describe("config validation", () => {
  it.each(invalid)(
    "rejects %s, naming the path, with no provider call",
    async (_title, patch, path, message) => {
      const w = world();
      const error = await up({ ...memoryConfig(), ...patch } as never, w.options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidConfigError);
      const issue = (error as InvalidConfigError).issues.find((i) => i.path === path);
      expect(issue, `issues were: ${JSON.stringify((error as InvalidConfigError).issues)}`).toBeDefined();
      expect(issue?.message).toMatch(message);
      expect(w.cloud.calls).toEqual([]);
      expect(await w.state.read()).toBeUndefined();
    },
  );

  it("fills in the researched defaults", async () => {
    const w = world();
    const c = await validateConfig(memoryConfig(), w.options);
    expect(c.nodes.count).toBe(2);
    expect(c.zones).toEqual(["memory-1a", "memory-1b"]);
    expect(c.datastore.version).toBe("8.4");
    expect(c.loadBalancer.mode).toBe("l4");
    expect(c.loadBalancer.idleTimeoutSeconds).toBe(1800);
  });

  it("reads YAML files and reports syntax errors with the file", async () => {
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(join(tmpdir(), "k3sinfra-config-"));
    await writeFile(join(dir, "bad.yaml"), "name: [unclosed\n");
    const w = world();
    const error = await validateConfig(join(dir, "bad.yaml"), w.options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as Error).message).toContain("bad.yaml");
  });

  it("publishes a JSON Schema with the hostname required", () => {
    const schema = configJsonSchema() as {
      required: string[];
      properties: Record<string, { required?: string[] }>;
    };
    expect(schema.required).toEqual(expect.arrayContaining(["name", "provider", "region", "dns", "rancher"]));
    expect(schema.properties.rancher?.required).toContain("hostname");
  });
});

describe("all issues at once", () => {
  it("reports cross-field and provider issues in one error, one message per path", async () => {
    const w = world();
    const error = await up(
      {
        ...memoryConfig(),
        rancher: { hostname: "rancher.other.org" },
        zones: ["mars-1a", "memory-1b"],
        loadBalancer: { mode: "l4", certificate: "x" },
      } as never,
      w.options,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    const paths = (error as InvalidConfigError).issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(["rancher.hostname", "loadBalancer.certificate", "zones[0]"]),
    );
    expect(new Set(paths).size).toBe(paths.length);
  });
});

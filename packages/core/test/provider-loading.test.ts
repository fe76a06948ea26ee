import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type CloudProvider,
  DatastoreService,
  DnsRecordService,
  defineProvider,
  InvalidConfigError,
  LoadBalancerService,
  MemoryStateStore,
  NetworkService,
  NodeService,
  type ProgressEvent,
  ProviderRegistry,
  up,
  validateConfig,
} from "../src/index.js";
import { createMemoryProvider, MemoryCloud } from "../src/testing/index.js";
import { memoryConfig } from "./helpers.js";

// A project directory as a user would have one: a config beside node_modules with providers in it.
const project = realpathSync(mkdtempSync(join(tmpdir(), "k3sinfra-providers-")));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const write = (path: string, text: string) => {
  mkdirSync(dirname(join(project, path)), { recursive: true });
  writeFileSync(join(project, path), text);
};
const pkg = (name: string, manifest: Record<string, unknown>, files: Record<string, string>) => {
  write(`node_modules/${name}/package.json`, JSON.stringify({ name, type: "module", ...manifest }));
  for (const [file, text] of Object.entries(files)) write(`node_modules/${name}/${file}`, text);
};

// ESM-only (an `import` condition and nothing else), as most new packages are.
pkg(
  "my-provider",
  { exports: { ".": { import: "./lib/index.js" } } },
  {
    "lib/index.js": `export default {
      contractVersion: 2,
      name: "mine",
      capabilities: { services: ["dns"] },
      services: () => ({}),
    };`,
  },
);
pkg("needs-a-dependency", { main: "index.js" }, { "index.js": 'import "left-pad-that-is-not-here";\n' });
pkg(
  "throws-on-load",
  { exports: "./index.js" },
  { "index.js": 'throw new Error("the SDK wants MYCLOUD_REGION at import time");\n' },
);

const loadError = async (ref: string, registry = new ProviderRegistry()) => {
  const error = await registry.resolve(ref, project).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidConfigError);
  const issues = (error as InvalidConfigError).issues;
  expect(issues.map((i) => i.path)).toEqual(["provider"]);
  return issues[0]?.message ?? "";
};

describe("loading a provider by package name", () => {
  it("resolves it from the config's directory, not from core's install, through an import-only exports map", async () => {
    const provider = await new ProviderRegistry().resolve("my-provider", project);
    expect(provider.name).toBe("mine");
  });

  it("lists every place it looked when the package is nowhere", async () => {
    const message = await loadError("no-such-provider");
    expect(message).toContain("cannot load provider 'no-such-provider'");
    expect(message).toContain(`the config's directory (${project})`);
    expect(message).toContain(`the working directory (${process.cwd()})`);
    expect(message).toContain("@k3sinfra/core's install");
    expect(message).toContain("npm install no-such-provider");
  });

  it("looks in the registry's searchDirs (the CLI's install) after the config's and working directories", async () => {
    const registry = new ProviderRegistry({}, { searchDirs: [project] });
    const provider = await registry.resolve("my-provider", join(tmpdir(), "elsewhere"));
    expect(provider.name).toBe("mine");
  });

  it("tells a missing dependency of the provider from a missing provider, and names both", async () => {
    const message = await loadError("needs-a-dependency");
    expect(message).toContain("was found");
    expect(message).toContain(join(project, "node_modules/needs-a-dependency/index.js"));
    expect(message).toContain("failed while loading");
    expect(message).toContain("its dependency 'left-pad-that-is-not-here' is missing");
  });

  it("shows what a module threw while loading, and which module", async () => {
    const message = await loadError("throws-on-load");
    expect(message).toContain("the SDK wants MYCLOUD_REGION at import time");
    expect(message).toContain(join(project, "node_modules/throws-on-load/index.js"));
  });

  it("says a relative path does not exist, and where relative paths resolve from", async () => {
    const message = await loadError("./missing-provider.js");
    expect(message).toContain(`${join(project, "missing-provider.js")} does not exist`);
  });

  it("shows the cause for a built-in whose loader throws, instead of saying to install it", async () => {
    const registry = new ProviderRegistry({
      aws: async () => {
        throw new TypeError("tsyringe requires a reflect polyfill");
      },
    });
    const message = await loadError("aws", registry);
    expect(message).toContain("failed while loading: TypeError: tsyringe requires a reflect polyfill");
    expect(message).toContain("services(ctx)");
    expect(message).not.toContain("npm install");
  });
});

describe("the contract version", () => {
  const memory = createMemoryProvider(new MemoryCloud());
  const refusal = async (contractVersion: number) => {
    const provider = { ...memory, contractVersion } as unknown as CloudProvider;
    const error = await new ProviderRegistry().resolve(provider, project).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    return (error as InvalidConfigError).issues[0]?.message;
  };

  it("refuses a provider written for a newer contract: upgrade k3sinfra", async () => {
    expect(await refusal(3)).toMatch(
      /provider 'memory' \(.*\) was written for contract 3; this k3sinfra speaks contract 1–2: upgrade k3sinfra/,
    );
  });

  it("refuses a provider written for an older contract: upgrade the provider", async () => {
    expect(await refusal(0)).toMatch(
      /was written for contract 0; this k3sinfra speaks contract 1–2: upgrade the provider/,
    );
  });

  it("refuses contract 2 without services(ctx)", async () => {
    const { services: _, ...noServices } = memory;
    const error = await new ProviderRegistry()
      .resolve(noServices as unknown as CloudProvider, project)
      .catch((e: unknown) => e);
    expect((error as InvalidConfigError).issues[0]?.message).toMatch(
      /declares contract 2 but has no services\(ctx\)/,
    );
  });
});

describe("the node contract's late values", () => {
  it("refuses, at validation, a provider whose nodes cannot publish, saying what to implement", async () => {
    const memory = createMemoryProvider(new MemoryCloud());
    const silent = defineProvider({
      ...memory,
      services(ctx) {
        const services = memory.services(ctx);
        const n = services.nodes!;
        // Every method of the node contract but publish.
        const nodes = {
          updatable: n.updatable,
          create: n.create.bind(n),
          read: n.read.bind(n),
          update: n.update?.bind(n),
          delete: n.delete.bind(n),
          findByTags: n.findByTags.bind(n),
          native: n.native.bind(n),
        };
        return { ...services, nodes: nodes as unknown as NodeService };
      },
    });
    const error = await validateConfig(memoryConfig({ provider: silent }), {
      registry: new ProviderRegistry(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    const issue = (error as InvalidConfigError).issues.find((i) => /publish/.test(i.message));
    expect(issue?.path).toBe("provider");
    expect(issue?.message).toMatch(/nodes service has no publish\(state, values, ctx\)/);
    expect(issue?.message).toMatch(/datastore-host, datastore-port and first-server-ip/);
  });
});

describe("a descriptor object in a programmatic spec", () => {
  it("runs the whole cycle without registering it anywhere", async () => {
    const cloud = new MemoryCloud();
    const result = await up(memoryConfig({ provider: createMemoryProvider(cloud) }), {
      registry: new ProviderRegistry(),
      state: new MemoryStateStore(),
      poll: { minDelayMs: 1, maxDelayMs: 2 },
    });
    expect(result.outputs.nodes).toHaveLength(2);
    expect(cloud.inventory().filter((o) => o.kind === "node")).toHaveLength(2);
  });
});

describe("the contract-1 register form", () => {
  it("still works, with one deprecation warning per run", async () => {
    const cloud = new MemoryCloud();
    const memory = createMemoryProvider(cloud);
    const legacy = defineProvider({
      name: "legacy",
      capabilities: memory.capabilities,
      metadataReader: memory.metadataReader,
      register(container, ctx) {
        const services = memory.services({ ...ctx, options: {} });
        container.register(NetworkService, { useValue: services.network! });
        container.register(NodeService, { useValue: services.nodes! });
        container.register(DatastoreService, { useValue: services.datastore! });
        container.register(LoadBalancerService, { useValue: services.loadBalancer! });
        container.register(DnsRecordService, { useValue: services.dns! });
      },
    });
    const events: ProgressEvent[] = [];
    const result = await up(memoryConfig({ provider: legacy }), {
      registry: new ProviderRegistry(),
      state: new MemoryStateStore(),
      poll: { minDelayMs: 1, maxDelayMs: 2 },
      onEvent: (e) => events.push(e),
    });
    expect(result.outputs.nodes).toHaveLength(2);
    const deprecations = events.filter(
      (e) => e.type === "warning" && /register\(container, ctx\).*deprecated/.test(e.message),
    );
    expect(deprecations).toHaveLength(1);
  });
});

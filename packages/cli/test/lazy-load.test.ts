import { execFile } from "node:child_process";
import { copyFile, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.js";

const root = resolve(fileURLToPath(import.meta.url), "../../../..");
const bin = join(root, "packages/cli/src/bin.ts");
const hook = join(root, "packages/cli/test/fixtures/record-modules.mjs");

/** Runs the real bin from the sources in a child process, in `cwd` (as `pnpm k3sinfra` does: K3SINFRA_CWD). */
const runBin = (args: string[], cwd: string, extra: { hook?: boolean; env?: Record<string, string> } = {}) =>
  promisify(execFile)(
    process.execPath,
    [
      "--conditions=@k3sinfra/source",
      "--import",
      "tsx",
      ...(extra.hook ? ["--import", hook] : []),
      bin,
      ...args,
    ],
    {
      // tsx resolves from the repository; the bin moves to K3SINFRA_CWD before it reads any file.
      cwd: root,
      // tsx applies a tsconfig's compiler options only to files it includes; the root one includes none.
      env: {
        ...process.env,
        K3SINFRA_CWD: cwd,
        TSX_TSCONFIG_PATH: join(root, "tsconfig.base.json"),
        K3SINFRA_STATE_PASSPHRASE: "lazy-load-test",
        ...extra.env,
      },
    },
  );

/** Runs the real bin in a child process and returns the module URLs it loaded. */
const loadedModules = async (
  args: string[],
  cwd = root,
): Promise<{ stdout: string; stderr: string; modules: string[] }> => {
  const record = join(await tempDir(), "modules.json");
  const { stdout, stderr } = await runBin(args, cwd, {
    hook: true,
    env: { K3SINFRA_RECORD_MODULES: record },
  });
  return { stdout, stderr, modules: JSON.parse(await readFile(record, "utf8")) as string[] };
};

/** A directory holding examples/aws.yaml (Route 53 DNS) as k3sinfra.yaml. */
const awsCluster = async (): Promise<string> => {
  const dir = await tempDir();
  await copyFile(join(root, "examples/aws.yaml"), join(dir, "k3sinfra.yaml"));
  return dir;
};

/** A directory holding examples/azure.yaml (Azure DNS) as k3sinfra.yaml. */
const azureCluster = async (): Promise<string> => {
  const dir = await tempDir();
  await copyFile(join(root, "examples/azure.yaml"), join(dir, "k3sinfra.yaml"));
  return dir;
};

const matching = (modules: string[], patterns: RegExp[]) =>
  modules.filter((m) => patterns.some((re) => re.test(m)));

const CLOUD_SDKS = [/\/@aws-sdk\//, /\/@smithy\//, /cloudflare/, /\/@google-cloud\//, /\/@azure\//];
const CORE = [/\/packages\/core\//, /\/@k3sinfra\/core\//];
// The emulator, except its fault-flag parser (`@k3sinfra/emulator/faults`, one module importing nothing), which the
// program's argument parsers use as the emulator's bin does.
const EMULATOR = /\/packages\/emulator\/(?!(src\/faults\.ts|dist\/faults\.js)$)/;
const NOT_FOR_HELP = [
  ...CLOUD_SDKS,
  ...CORE,
  /\/packages\/provider-/,
  EMULATOR,
  /\/mysql2\//,
  /\/zod\//,
  /\/yaml\//,
  /\/tsyringe\//,
];
// The clients of clouds an AWS config does not use, and the MySQL driver nothing needs without a real MariaDB.
const NOT_FOR_AWS = [
  /\/node_modules\/cloudflare\//,
  /\/packages\/provider-cloudflare\//,
  /\/@google-cloud\//,
  /\/@azure\//,
];
// The same for an Azure config.
const NOT_FOR_AZURE = [
  /\/node_modules\/cloudflare\//,
  /\/packages\/provider-cloudflare\//,
  /\/@google-cloud\//,
  /\/@aws-sdk\//,
  /\/packages\/provider-(aws|gcp)\//,
];
const MYSQL = [/\/mysql2\//];
// Node built-ins only `verify` needs (core's verify/ fetches them when it probes).
const NOT_FOR_PLAN_BUILTINS = [/^node:https$/, /^node:tls$/, /^node:dns/];

describe("start-up loads what the command needs", () => {
  it("k3sinfra --version loads neither core nor commander: the version alone", async () => {
    const { stdout, modules } = await loadedModules(["--version"]);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
    // The recorder works: the bin and its version module are in the list.
    expect(modules.some((m) => m.includes("/packages/cli/src/version.ts"))).toBe(true);
    expect(matching(modules, [...NOT_FOR_HELP, /\/commander\//, /\/packages\/cli\/src\/main\.ts/])).toEqual(
      [],
    );
  });

  for (const args of [["--help"], ["-h"], ["up", "--help"], ["plan", "-h"], ["help", "destroy"]]) {
    it(`k3sinfra ${args.join(" ")} loads commander and the program, not core`, async () => {
      const { stdout, modules } = await loadedModules(args);
      expect(stdout).toContain("Usage: k3sinfra");
      expect(modules.some((m) => m.includes("/packages/cli/src/program.ts"))).toBe(true);
      expect(modules.some((m) => m.includes("/commander/"))).toBe(true);
      expect(matching(modules, NOT_FOR_HELP)).toEqual([]);
    });
  }

  it("k3sinfra schema loads core, but no provider, no cloud SDK and no emulator", async () => {
    const { stdout, modules } = await loadedModules(["schema"]);
    expect(JSON.parse(stdout)).toHaveProperty("properties");
    expect(modules.some((m) => m.includes("/packages/core/"))).toBe(true);
    const forbidden = [...CLOUD_SDKS, /\/packages\/provider-/, EMULATOR, /\/mysql2\//];
    expect(matching(modules, forbidden)).toEqual([]);
  });

  it("plan --emulate --refresh=false on a new AWS cluster loads no emulator, no mysql2, no cloud SDK client and no other cloud", async () => {
    const dir = await awsCluster();
    const { stdout, modules } = await loadedModules(["plan", "--emulate", "--refresh=false"], dir);
    expect(stdout).toContain("to create");
    // The recorder works: the AWS provider was loaded.
    expect(modules.some((m) => m.includes("/packages/provider-aws/"))).toBe(true);
    // Planning from the state alone reads no cloud, so no emulator is started: only its fake credentials load.
    expect(matching(modules, [EMULATOR]).filter((m) => !/credentials\.(ts|js)$/.test(m))).toEqual([]);
    expect(matching(modules, [...NOT_FOR_AWS, ...MYSQL])).toEqual([]);
    // Planning from the state alone makes no cloud call, so no client is loaded.
    expect(matching(modules, [/\/@aws-sdk\/client-/])).toEqual([]);
    // Only `verify` connects: core fetches node:https, node:tls and node:dns when a probe runs, so planning
    // loads neither TLS nor (through node:https's exports) Node's fetch implementation.
    expect(matching(modules, NOT_FOR_PLAN_BUILTINS)).toEqual([]);
  });

  it("a refreshing plan on an existing AWS cluster loads only the AWS clients of the services it reads, no mysql2", async () => {
    const dir = await awsCluster();
    const up = ["up", "--emulate", "--yes", "--no-wait", "--time-scale", "0.002"];
    await runBin(up, dir);
    const { stdout, modules } = await loadedModules(["plan", "--emulate", "--time-scale", "0.002"], dir);
    expect(stdout).toMatch(/No changes|Plan:/);
    const clients = new Set(
      modules.flatMap((m) => /\/@aws-sdk\/(client-[a-z0-9-]+)\//.exec(m)?.[1] ?? []).map((c) => c),
    );
    // It read the cloud through the AWS clients…
    expect(clients.has("client-ec2")).toBe(true);
    // …of the services a cluster with an L4 load balancer and Route 53 DNS has: no certificates (L4) to look up.
    expect([...clients].filter((c) => c === "client-acm")).toEqual([]);
    expect(matching(modules, [...NOT_FOR_AWS, ...MYSQL])).toEqual([]);
  });

  it("plan --emulate --refresh=false on a new Azure cluster loads no emulator, no Azure SDK, no other cloud and no mysql2", async () => {
    const dir = await azureCluster();
    const { stdout, modules } = await loadedModules(["plan", "--emulate", "--refresh=false"], dir);
    expect(stdout).toContain("to create");
    // The recorder works: the Azure provider was loaded.
    expect(modules.some((m) => m.includes("/packages/provider-azure/"))).toBe(true);
    // No emulator is started (only its fake credentials load), so no TLS listener either.
    expect(matching(modules, [EMULATOR]).filter((m) => !/credentials\.(ts|js)$/.test(m))).toEqual([]);
    expect(matching(modules, [...NOT_FOR_AZURE, ...MYSQL])).toEqual([]);
    // Planning from the state alone makes no cloud call: no client, no credential library.
    expect(matching(modules, [/\/@azure\//])).toEqual([]);
    expect(matching(modules, NOT_FOR_PLAN_BUILTINS)).toEqual([]);
  });

  it("a refreshing plan on an existing Azure cluster loads only the Azure clients of the services it reads, no mysql2", async () => {
    const dir = await azureCluster();
    const up = ["up", "--emulate", "--yes", "--no-wait", "--time-scale", "0.002"];
    await runBin(up, dir);
    const { stdout, modules } = await loadedModules(["plan", "--emulate", "--time-scale", "0.002"], dir);
    expect(stdout).toMatch(/No changes|Plan:/);
    const clients = new Set(modules.flatMap((m) => /\/@azure\/(arm-[a-z0-9-]+)\//.exec(m)?.[1] ?? []));
    // It read the cloud through the Azure clients of the services it has…
    for (const c of ["arm-network", "arm-compute", "arm-mysql-flexible", "arm-dns"])
      expect(clients.has(c), c).toBe(true);
    // …each loaded on its own: the private DNS zone is read only when the datastore is made or deleted.
    expect(clients.has("arm-privatedns")).toBe(false);
    expect(matching(modules, [...NOT_FOR_AZURE, ...MYSQL])).toEqual([]);
  });
});

import { chmod, mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import {
  BOOT_STAGES,
  type BootStage,
  type ClusterConfigInput,
  type PollPolicy,
  TAG_CLUSTER,
  TAG_RESOURCE,
} from "@k3sinfra/core";
import { EMULATED_CLOUDS, type EmulatedCloudModule, type Fixtures } from "./emulate/index.js";
import {
  describeFaults,
  type EmulateFaultFlags,
  faultSpecs,
  hasFaults,
  summarizeFaults,
} from "./emulate-faults.js";
import { UsageError } from "./render/errors.js";

/** A running emulated cloud for one command. */
export interface EmulatedCloud {
  /** Environment to hand to the API: endpoints and fake credentials. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Short polls: emulated waits are scaled down. */
  readonly poll: PollPolicy;
  /** The config to run against: the user's, with its state moved beside the emulator's file. */
  readonly spec: ClusterConfigInput;
  /** Where the emulated cloud is kept between commands. */
  readonly persistPath: string;
  /** Config options naming real resources, left out of the emulated run (e.g. `options.aws.vpcId`). */
  readonly ignored: readonly string[];
  /** Clouds being emulated. */
  readonly clouds: readonly string[];
  /** Where the readiness check reaches an emulated datastore (its local proxy to a real MariaDB). */
  datastoreAddress(endpoint: { host: string; port: number }): { host: string; port: number };
  /** The faults injected into this run, for the banner (`Injected faults (seed 7): …`); none: undefined. */
  readonly faultsNote: string | undefined;
  /** How many calls so far got an injected fault, by kind, for the end of the run; no faults: undefined. */
  faultSummary(): string | undefined;
  /** Stops the emulator; its state stays in `persistPath`. */
  stop(): Promise<void>;
}

/** Options for `startEmulatedCloud`. */
export interface EmulateOptions {
  /** Directory relative config paths resolve from (the config file's directory). */
  readonly baseDir: string;
  /** 1 = real cloud durations. */
  readonly timeScale: number;
  /** The user's environment; cloud credentials in it are replaced, never used. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Emulator diagnostics. */
  readonly log: (line: string) => void;
  /** Faults from the command line (`--emulate-seed`, `--emulate-throttle`, …); see emulate-faults.ts. */
  readonly faults?: EmulateFaultFlags;
  /**
   * False when the command reads no cloud (`plan --refresh=false`): the emulator is not started (nor loaded),
   * and the providers are pointed at addresses that never resolve, so a call that should not happen fails
   * instead of reaching anything. Default true.
   */
  readonly serve?: boolean;
}

/** Where providers point when the emulator is not started: `.invalid` never resolves (RFC 2606). */
const NOT_STARTED = "https://not-started.k3sinfra-emulator.invalid";

/** The config for an emulated run: state in its own file, and no options that point at real resources. */
const emulatedSpec = (
  input: ClusterConfigInput,
  statePath: string,
  modules: readonly EmulatedCloudModule[],
): { spec: ClusterConfigInput; ignored: string[] } => {
  const options = { ...input.options };
  const ignored: string[] = [];
  for (const module of modules) {
    for (const provider of module.providers) {
      const block = options[provider];
      if (!block || typeof block !== "object") continue;
      const kept: Record<string, unknown> = { ...(block as Record<string, unknown>) };
      for (const key of module.realOptions) {
        if (key in kept) {
          delete kept[key];
          ignored.push(`options.${provider}.${key}`);
        }
      }
      options[provider] = kept;
    }
  }
  // An emulated run keeps its state in a local file beside the emulator's, whatever state.backend says: it
  // must never read or write a real bucket.
  if (input.state?.backend !== undefined && input.state.backend !== "local") ignored.push("state.backend");
  return { spec: { ...input, options, state: { path: statePath } }, ignored };
};

// A spec object may hold a provider descriptor instead of a name; the emulator knows providers by name.
const nameOf = (ref: ClusterConfigInput["provider"] | undefined) =>
  typeof ref === "object" ? ref.name : ref;

const serving = (name: string, role: "compute" | "dns") =>
  EMULATED_CLOUDS.find((m) => m[role] && m.providers.includes(name));

const names = (role: "compute" | "dns") =>
  EMULATED_CLOUDS.filter((m) => m[role])
    .map((m) => m.providers[0])
    .join(", ");

/** The cloud modules a config needs emulated (compute first); a UsageError when it uses one `--emulate` lacks. */
export const emulatedModules = (input: ClusterConfigInput): EmulatedCloudModule[] => {
  const computeName = nameOf(input.provider) ?? "";
  const compute = serving(computeName, "compute");
  if (!compute)
    throw new UsageError(
      `--emulate emulates ${names("compute")} (with their DNS or Cloudflare); this config uses provider '${computeName}'.`,
    );
  const dnsName = nameOf(input.dns?.provider);
  const dns = dnsName === undefined ? compute : serving(dnsName, "dns");
  if (!dns)
    throw new UsageError(
      `--emulate emulates DNS on ${names("dns")}; this config uses dns.provider '${dnsName}'.`,
    );
  return dns === compute ? [compute] : [compute, dns];
};

/** The emulator's names of the clouds a config needs (see `emulatedModules`). */
export const cloudsFor = (input: ClusterConfigInput): string[] => emulatedModules(input).map((m) => m.cloud);

/**
 * Starts `@k3sinfra/emulator` (imported only here, so other commands never load it) with the cloud kept in
 * `.k3sinfra/emulator/<cluster>.json` beside the state, so successive commands see the same resources, and the
 * config's DNS zone as an existing hosted zone. State for emulated runs goes to its own file next to it, so an
 * emulated run can never be mistaken for the real cluster's state. With `serve: false`, all of that but the
 * emulator itself.
 */
export const startEmulatedCloud = async (
  input: ClusterConfigInput,
  options: EmulateOptions,
): Promise<EmulatedCloud> => {
  const modules = emulatedModules(input);
  const clouds = modules.map((m) => m.cloud);
  const mysql = parseMysqlUrl(options.env.K3SINFRA_EMULATE_MYSQL_URL);
  const throttle = options.faults?.emulateThrottle ?? parseRate(options.env.K3SINFRA_EMULATE_THROTTLE);
  const faults: EmulateFaultFlags = { ...options.faults, ...(throttle ? { emulateThrottle: throttle } : {}) };
  // Faults are reproducible: seeded 42 unless the command line says otherwise.
  const seed = options.faults?.emulateSeed ?? (hasFaults(faults) ? 42 : undefined);
  const failBoot = parseFailBoot(options.env.K3SINFRA_EMULATE_FAIL_BOOT);
  const statePath = resolve(
    options.baseDir,
    input.state?.path ?? join(".k3sinfra", `${input.name}.state.json`),
  );
  const dir = join(dirname(statePath), "emulator");
  // The emulated account's key material and sealed secrets live here: the owner's only, even if it existed.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const persistPath = join(dir, `${input.name}.json`);
  const zone = input.dns?.zone?.toLowerCase().replace(/\.$/, "");
  const fixtureInput = {
    hostname: input.rancher?.hostname?.toLowerCase(),
    certificate: input.loadBalancer?.certificate,
  };
  // The zone is a fixture of the cloud serving the config's DNS only: the last module (compute when alone).
  const dnsModule = modules[modules.length - 1];
  const fixtures: Partial<Fixtures> = Object.assign(
    {},
    ...modules.map((m) => m.fixtures({ ...fixtureInput, zone: m === dnsModule ? zone : undefined })),
  );

  const env: Record<string, string | undefined> = { ...options.env };
  for (const m of EMULATED_CLOUDS) for (const name of m.realVars) delete env[name];
  const { spec, ignored } = emulatedSpec(input, join(dir, `${input.name}.state.json`), modules);
  const scaled = Math.max(0.001, options.timeScale);
  const common = {
    env,
    poll: {
      minDelayMs: Math.max(10, Math.round(2_000 * scaled)),
      maxDelayMs: Math.max(50, Math.round(30_000 * scaled)),
    },
    spec,
    ignored,
    persistPath,
    clouds,
    faultsNote: seed !== undefined ? describeFaults(faults, seed) : undefined,
  };
  if (options.serve === false) {
    const c = await import("@k3sinfra/emulator/credentials");
    const standIn = {
      endpoints: Object.fromEntries(clouds.map((cloud) => [cloud, NOT_STARTED])),
      credentials: {
        aws: { ...c.AWS_TEST_CREDENTIALS },
        azure: { ...c.AZURE_TEST_CREDENTIALS },
        cloudflare: { apiToken: c.CLOUDFLARE_TEST_TOKEN },
      },
    };
    for (const m of modules) Object.assign(env, m.env(standIn));
    return { ...common, datastoreAddress: (e) => e, faultSummary: () => undefined, stop: async () => {} };
  }

  const { startEmulator } = await import("@k3sinfra/emulator");
  const emulator = await startEmulator({
    clouds,
    timeScale: options.timeScale,
    persistPath,
    // The config's zone and certificate already exist, as they must in a real account.
    fixtures,
    ...(mysql ? { mysql } : {}),
    // No VM boots here: the emulator plays server 0's kubeconfig write (as its role) once K3s would serve, so
    // that `k3sinfra kubeconfig --emulate` finds one. 90 s after `running` at time scale 1.
    simulateBoot: { kubeconfigAfterMs: 90_000 },
    // One server's bootstrap failing at a stage (it holds until a command runs without the variable, then the
    // server's unit runs again and completes): what `up` reports when a node cannot finish its boot.
    ...(failBoot
      ? {
          bootFaults: [
            {
              tags: { [TAG_CLUSTER]: input.name, [TAG_RESOURCE]: failBoot.node },
              stage: failBoot.stage,
              ...(failBoot.reason ? { reason: failBoot.reason } : {}),
            },
          ],
        }
      : {}),
    // Throttling, 5xx and latency at a rate, and named operations that always fail, reproducibly: a bad day.
    faults: faultSpecs(faults),
    ...(seed !== undefined ? { seed } : {}),
    log: options.log,
  });

  for (const m of modules) Object.assign(env, m.env(emulator));
  return {
    ...common,
    datastoreAddress: (endpoint) => {
      for (const m of modules) {
        const address = m.datastoreAddress?.(emulator, endpoint);
        if (address) return address;
      }
      return endpoint;
    },
    faultSummary: () => summarizeFaults(faults, emulator.requestLog()),
    stop: () => emulator.stop(),
  };
};

/**
 * `node-<i>:<stage>[:<reason>]`, from `K3SINFRA_EMULATE_FAIL_BOOT`: that server's bootstrap fails at that stage
 * in the emulated cloud, e.g. `node-1:datastore:cannot connect to the datastore`.
 */
export const parseFailBoot = (
  value: string | undefined,
): { node: string; stage: BootStage; reason?: string } | undefined => {
  if (!value) return undefined;
  const m = /^(node-\d+):([a-z0-9-]+)(?::(.+))?$/.exec(value.trim());
  const stage = BOOT_STAGES.find((s) => s === m?.[2]);
  if (!m?.[1] || !stage)
    throw new UsageError(
      `K3SINFRA_EMULATE_FAIL_BOOT must look like node-1:datastore[:reason], the stage one of ${BOOT_STAGES.join(", ")}`,
    );
  return { node: m[1], stage, ...(m[3] ? { reason: m[3].trim() } : {}) };
};

/** A probability in (0, 1], from `K3SINFRA_EMULATE_THROTTLE`: the share of emulated calls that are throttled. */
export const parseRate = (value: string | undefined): number | undefined => {
  if (!value) return undefined;
  const rate = Number(value);
  if (!(rate > 0 && rate <= 1))
    throw new UsageError("K3SINFRA_EMULATE_THROTTLE must be a number in (0, 1], e.g. 0.1");
  return rate;
};

/** `mysql://user:password@host:port`, from `K3SINFRA_EMULATE_MYSQL_URL`: the real server behind emulated RDS. */
export const parseMysqlUrl = (
  url: string | undefined,
): { host: string; port: number; user: string; password: string } | undefined => {
  if (!url) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError("K3SINFRA_EMULATE_MYSQL_URL must look like mysql://user:password@127.0.0.1:3306");
  }
  if (u.protocol !== "mysql:" || !u.username) {
    throw new UsageError("K3SINFRA_EMULATE_MYSQL_URL must look like mysql://user:password@127.0.0.1:3306");
  }
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
};

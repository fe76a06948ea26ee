import { chmod, mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { type ClusterConfigInput, type PollPolicy, TAG_CLUSTER, TAG_RESOURCE } from "@k3sinfra/core";
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
  readonly clouds: readonly ("aws" | "cloudflare")[];
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
}

const ALIASES: Record<string, string> = { route53: "aws" };

// An ACM certificate ARN (what validation accepts); anything else is left for validation to refuse.
const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-zA-Z-]+$/;

// Variables through which a real account could leak into an emulated run; they are removed.
const REAL_CLOUD_VARS = [
  "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE",
  "AWS_SESSION_TOKEN",
  "AWS_ROLE_ARN",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "CLOUDFLARE_API_KEY",
  "CLOUDFLARE_EMAIL",
];

// Option keys that name real resources, endpoints or credentials; the emulator has its own, found by default.
const REAL_OPTIONS: Record<string, readonly string[]> = {
  aws: ["endpoint", "vpcId", "subnetIds", "hostedZoneId", "amiId"],
  cloudflare: ["apiToken", "baseUrl", "zoneId"],
};

/** The config for an emulated run: state in its own file, and no options that point at real AWS resources. */
const emulatedSpec = (
  input: ClusterConfigInput,
  statePath: string,
): { spec: ClusterConfigInput; ignored: string[] } => {
  const options = { ...input.options };
  const ignored: string[] = [];
  for (const [provider, keys] of Object.entries(REAL_OPTIONS)) {
    const block = options[provider];
    if (!block || typeof block !== "object") continue;
    const kept: Record<string, unknown> = { ...(block as Record<string, unknown>) };
    for (const key of keys) {
      if (key in kept) {
        delete kept[key];
        ignored.push(`options.${provider}.${key}`);
      }
    }
    options[provider] = kept;
  }
  return { spec: { ...input, options, state: { ...input.state, path: statePath } }, ignored };
};

/** The clouds a config needs emulated; a UsageError when it uses one the emulator does not have. */
export const cloudsFor = (input: ClusterConfigInput): ("aws" | "cloudflare")[] => {
  // A spec object may hold a provider descriptor instead of a name; the emulator knows providers by name.
  const nameOf = (ref: ClusterConfigInput["provider"] | undefined) =>
    typeof ref === "object" ? ref.name : ref;
  const compute = ALIASES[nameOf(input.provider) ?? ""] ?? nameOf(input.provider);
  const dns = ALIASES[nameOf(input.dns?.provider) ?? ""] ?? nameOf(input.dns?.provider) ?? compute;
  if (compute !== "aws") {
    throw new UsageError(
      `--emulate emulates AWS (with Route 53 or Cloudflare DNS); this config uses provider '${compute}'.`,
    );
  }
  if (dns !== "aws" && dns !== "cloudflare") {
    throw new UsageError(
      `--emulate emulates Route 53 and Cloudflare DNS; this config uses dns.provider '${dns}'.`,
    );
  }
  return dns === "cloudflare" ? ["aws", "cloudflare"] : ["aws"];
};

/**
 * Starts `@k3sinfra/emulator` (imported only here, so other commands never load it) with the cloud kept in
 * `.k3sinfra/emulator/<cluster>.json` beside the state, so successive commands see the same resources, and the
 * config's DNS zone as an existing hosted zone. State for emulated runs goes to its own file next to it, so an
 * emulated run can never be mistaken for the real cluster's state.
 */
export const startEmulatedCloud = async (
  input: ClusterConfigInput,
  options: EmulateOptions,
): Promise<EmulatedCloud> => {
  const clouds = cloudsFor(input);
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
  const cloudflare = clouds.includes("cloudflare");
  // The L7 certificate is issued for the Rancher hostname, as the preflight demands of a real account.
  const certificate = input.loadBalancer?.certificate;
  const hostname = input.rancher?.hostname?.toLowerCase();
  const certificates =
    certificate && hostname && ACM_ARN.test(certificate) ? [{ arn: certificate, domainName: hostname }] : [];

  const { startEmulator } = await import("@k3sinfra/emulator");
  const emulator = await startEmulator({
    clouds,
    timeScale: options.timeScale,
    persistPath,
    // The config's zone already exists, as it must in a real account.
    fixtures: {
      aws: { hostedZones: zone && !cloudflare ? [zone] : [], certificates },
      ...(zone && cloudflare ? { cloudflare: { zones: [zone] } } : {}),
    },
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

  const env: Record<string, string | undefined> = { ...options.env };
  for (const name of REAL_CLOUD_VARS) delete env[name];
  env.AWS_ENDPOINT_URL = emulator.endpoints.aws;
  env.AWS_ACCESS_KEY_ID = emulator.credentials.aws.accessKeyId;
  env.AWS_SECRET_ACCESS_KEY = emulator.credentials.aws.secretAccessKey;
  if (emulator.endpoints.cloudflare) {
    env.CLOUDFLARE_API_TOKEN = emulator.credentials.cloudflare.apiToken;
    env.CLOUDFLARE_BASE_URL = emulator.endpoints.cloudflare;
  }

  const { spec, ignored } = emulatedSpec(input, join(dir, `${input.name}.state.json`));
  const scaled = Math.max(0.001, options.timeScale);
  return {
    env,
    poll: {
      minDelayMs: Math.max(10, Math.round(2_000 * scaled)),
      maxDelayMs: Math.max(50, Math.round(30_000 * scaled)),
    },
    spec,
    ignored,
    persistPath,
    clouds,
    // An emulated RDS endpoint is a made-up host name; with a real MariaDB behind it, the emulator proxies
    // it on a local port, which is where the readiness check connects (as through a tunnel).
    datastoreAddress: (endpoint) => {
      const id = endpoint.host.split(".")[0];
      const item = emulator
        .inventory({ cloud: "aws" })
        .find((i) => i.service === "rds" && i.type === "db-instance" && i.id === id);
      return item?.connect ?? endpoint;
    },
    faultsNote: seed !== undefined ? describeFaults(faults, seed) : undefined,
    faultSummary: () => summarizeFaults(faults, emulator.requestLog()),
    stop: () => emulator.stop(),
  };
};

/** The stages of a server's bootstrap (the emulator's `BootStage`). */
const BOOT_STAGES = [
  "secrets",
  "metadata",
  "datastore",
  "k3s-install",
  "k3s-ready",
  "rancher-manifests",
  "kubeconfig",
  "done",
] as const;
type BootStage = (typeof BOOT_STAGES)[number];

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

import { join, resolve } from "node:path";
import { z } from "zod";
import { parseConfig, readConfig } from "../config/load.js";
import { type ResolvedConfig, resolveConfig } from "../config/resolve.js";
import { type ClusterConfig, ClusterConfigSchema } from "../config/schema.js";
import { createClusterContainer } from "../container.js";
import { desiredResources, usesSecretStore } from "../orchestrator/desired.js";
import { Orchestrator } from "../orchestrator/orchestrator.js";
import { outputsFromState } from "../orchestrator/outputs.js";
import { checkStateCluster } from "../orchestrator/run.js";
import { ProviderRegistry } from "../registry.js";
import { openStateStore } from "../state/index.js";
import type { StateStore } from "../state/types.js";
import { type ConnectTarget, type VerifyCheck, type VerifyResolver, verifyCluster } from "../verify/index.js";
import { defaultPollPolicy } from "../wait.js";
import type {
  ApplyOptions,
  ClusterOutputs,
  ClusterSpec,
  CommandOptions,
  DestroyOptions,
  DestroyResult,
  KubeconfigResult,
  OutputOptions,
  Plan,
  PlanCommandOptions,
  StatusReport,
  UpResult,
} from "./types.js";

export { type ConfigSource, type ParsedConfig, parseConfig, readConfig } from "../config/load.js";

interface Session {
  readonly resolved: ResolvedConfig;
  readonly baseDir: string;
  readonly store: StateStore;
}

async function open(spec: ClusterSpec, options: CommandOptions): Promise<Session> {
  const loaded = await readConfig(spec, options);
  const { config, issues } = parseConfig(loaded.raw);
  const resolved = await resolveConfig(
    config,
    options.registry ?? new ProviderRegistry(),
    loaded.baseDir,
    issues,
    { strict: options.strict === true },
  );
  // The store's notices (a stale lock taken over, a lease renewal that failed) reach the caller as events.
  // state.backend picks the store: the local file, or a backend one of the providers offers.
  const store =
    options.state ??
    (
      await openStateStore({
        config,
        providers: resolved.providers.map((p) => p.provider),
        registry: options.registry ?? new ProviderRegistry(),
        baseDir: loaded.baseDir,
        ...(options.env ? { env: options.env } : {}),
        onWarning: (message) => options.onEvent?.({ type: "warning", message }),
      })
    ).store;
  return { resolved, baseDir: loaded.baseDir, store };
}

function orchestrator(session: Session, options: ApplyOptions): Orchestrator {
  const child = createClusterContainer({
    resolved: session.resolved,
    store: session.store,
    run: {
      onEvent: options.onEvent ?? (() => undefined),
      signal: options.signal ?? new AbortController().signal,
      poll: options.poll ?? defaultPollPolicy,
      parallelism: Math.max(1, options.parallelism ?? 4),
      timeouts: options.timeouts ?? {},
      env: options.env ?? process.env,
      datastoreAddress: options.datastoreAddress ?? ((e) => e),
      confirm: options.confirm,
      wait: options.wait,
    },
  });
  return child.resolve(Orchestrator);
}

/**
 * Validates a spec completely without any cloud call: `readConfig`, `parseConfig` and `resolveConfig` in one,
 * every issue in one `InvalidConfigError`. Returns the config as validated.
 */
export async function validateConfig(
  spec: ClusterSpec,
  options: CommandOptions = {},
): Promise<ClusterConfig> {
  return (await open(spec, options)).resolved.config;
}

/**
 * What `up` would do, with reasons. Reads every recorded resource from the cloud first, so drift shows
 * (`refresh: false` plans from the state alone); takes no lock and changes nothing. With `destroy`, what
 * `destroy` would delete, from the state alone (no cloud call, no secret read).
 */
export async function plan(spec: ClusterSpec, options: PlanCommandOptions = {}): Promise<Plan> {
  const o = orchestrator(await open(spec, options), options);
  return options.destroy ? o.destroyPlan() : o.plan({ refresh: options.refresh ?? true });
}

/** Creates the cluster or converges it to the spec; resumable after any crash. */
export async function up(spec: ClusterSpec, options: ApplyOptions = {}): Promise<UpResult> {
  const started = Date.now();
  const result = await orchestrator(await open(spec, options), options).up({
    refresh: options.refresh ?? true,
  });
  options.onEvent?.({ type: "done", command: "up", durationMs: Date.now() - started });
  return result;
}

/** Reads every recorded resource from the cloud and reports drift; changes nothing. */
export async function status(spec: ClusterSpec, options: CommandOptions = {}): Promise<StatusReport> {
  return orchestrator(await open(spec, options), options).status();
}

/** The Rancher URL, addresses, K3s server configuration and Rancher install commands, from state. */
export async function outputs(spec: ClusterSpec, options: OutputOptions = {}): Promise<ClusterOutputs> {
  const session = await open(spec, options);
  const state = checkStateCluster(session.resolved.config.name, await session.store.read());
  if (!state || Object.keys(state.resources).length === 0) {
    throw new (await import("../errors.js")).NotFoundError(
      `Cluster ${session.resolved.config.name} has no state yet: run \`k3sinfra up\` first.`,
    );
  }
  const config = session.resolved.config;
  return outputsFromState({
    config,
    state,
    k3sVersion: session.resolved.k3sVersion,
    showSecrets: options.showSecrets ?? false,
    datastoreTls: session.resolved.compute.provider.datastoreCaUrl?.(config.region) !== undefined,
    kubeconfigFromStore: usesSecretStore(session.resolved),
  });
}

/**
 * Fetches the kubeconfig the first server stored in the cluster's secret store (with your credentials),
 * points it at an address this machine can reach, and writes it 0600 to `output` (default
 * `.k3sinfra/<name>.kubeconfig` beside the config). The result says where and what to run next.
 */
export async function kubeconfig(
  spec: ClusterSpec,
  options: CommandOptions & { readonly output?: string } = {},
): Promise<KubeconfigResult> {
  const session = await open(spec, options);
  const path = resolve(
    session.baseDir,
    options.output ?? join(".k3sinfra", `${session.resolved.config.name}.kubeconfig`),
  );
  return orchestrator(session, options).kubeconfig(path);
}

/** Options for `verify`: where to resolve and connect (tests point them at local listeners). */
export interface VerifyOptions extends CommandOptions {
  readonly resolver?: VerifyResolver;
  readonly connect?: ConnectTarget;
  /** Per-check timeout in ms. Default 10 s. */
  readonly timeoutMs?: number;
  /** A Rancher API token, to read Rancher's server-url (shown only to a logged-in user). */
  readonly rancherToken?: string;
  /** Trust store for the certificate check (PEM); default this machine's. */
  readonly ca?: readonly string[];
  /** Nothing is reachable from here (an emulated cloud): every check is skipped with this reason. */
  readonly offline?: string;
}

/**
 * Checks from this machine what a Rancher user depends on: the hostname resolves to the load balancer,
 * its ports answer, plain HTTP redirects to HTTPS, the certificate is valid for the hostname, `/ping`
 * answers `pong`, and Rancher's server-url is the hostname's URL. Each check passes, fails or is skipped
 * with its reason; a failed check never throws.
 */
export async function verify(spec: ClusterSpec, options: VerifyOptions = {}): Promise<VerifyCheck[]> {
  const out = await outputs(spec, options);
  return verifyCluster({
    hostname: out.hostname,
    expectedTargets: {
      ...(out.loadBalancer.ips ? { ips: out.loadBalancer.ips } : {}),
      ...(out.loadBalancer.hostname ? { hostnames: [out.loadBalancer.hostname] } : {}),
    },
    ...(options.resolver ? { resolver: options.resolver } : {}),
    ...(options.connect ? { connect: options.connect } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.rancherToken ? { rancherToken: options.rancherToken } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.offline !== undefined ? { offline: options.offline } : {}),
  });
}

/** Deletes the cluster, then sweeps anything left with its ownership tags. */
export async function destroy(spec: ClusterSpec, options: DestroyOptions = {}): Promise<DestroyResult> {
  const started = Date.now();
  const result = await orchestrator(await open(spec, options), options).destroy({
    allowProtected: options.allowProtected ?? false,
  });
  options.onEvent?.({ type: "done", command: "destroy", durationMs: Date.now() - started });
  return result;
}

/** Removes a lock left by a crashed process. */
export async function forceUnlock(
  spec: ClusterSpec,
  lockId: string,
  options: CommandOptions = {},
): Promise<void> {
  await (await open(spec, options)).store.forceUnlock(lockId);
}

/** The plan's dependency graph as Mermaid or Graphviz DOT. */
export async function graph(
  spec: ClusterSpec,
  options: CommandOptions & { format: "mermaid" | "dot" },
): Promise<string> {
  const session = await open(spec, options);
  const p = await orchestrator(session, options).plan({ refresh: false });
  const actions = new Map(p.changes.map((c) => [c.resource, c.action]));
  const nodes = desiredResources(session.resolved);
  const label = (id: string) =>
    `${id}${actions.get(id) && actions.get(id) !== "no-op" ? ` (${actions.get(id)})` : ""}`;
  const safe = (id: string) => id.replace(/[^A-Za-z0-9_]/g, "_");
  if (options.format === "dot") {
    const lines = [
      "digraph k3sinfra {",
      "  rankdir=LR;",
      ...nodes.map((n) => `  ${safe(n.id)} [label="${label(n.id)}"];`),
    ];
    for (const n of nodes) for (const d of n.dependsOn) lines.push(`  ${safe(d)} -> ${safe(n.id)};`);
    return `${[...lines, "}"].join("\n")}\n`;
  }
  const lines = ["graph LR", ...nodes.map((n) => `  ${safe(n.id)}["${label(n.id)}"]`)];
  for (const n of nodes) for (const d of n.dependsOn) lines.push(`  ${safe(d)} --> ${safe(n.id)}`);
  return `${lines.join("\n")}\n`;
}

/** The config's JSON Schema, for editors (`# yaml-language-server: $schema=…`). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ClusterConfigSchema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
}

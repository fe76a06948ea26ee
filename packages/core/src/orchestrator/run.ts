import { randomUUID } from "node:crypto";
import type { DependencyContainer } from "tsyringe";
import type { PlannedChange, ProgressEvent } from "../api/types.js";
import type { ResolvedConfig } from "../config/resolve.js";
import { AbortedError, InvalidConfigError, K3sinfraError, ProviderError, TimeoutError } from "../errors.js";
import { clusterTags, idempotencyToken, physicalName, resourceTags, TAG_CLUSTER_ID } from "../naming.js";
import { providerContext } from "../provider-context.js";
import { preflightProvider } from "../provider-services.js";
import type { ResourceContext, Tags } from "../resources/common.js";
import type { NodeState } from "../resources/node.js";
import { SecretStoreService } from "../resources/secret-store.js";
import { withRetry } from "../retry.js";
import { emptyState, nextState } from "../state/state.js";
import type { ClusterState, Lock, StateStore } from "../state/types.js";
import { type ResourceKind, type SecretPlacement, SpecBuilder, usesSecretStore } from "./desired.js";
import { holds, kindOf, type RecordedState, stateIn } from "./kinds/index.js";
import type { StateOf } from "./kinds/types.js";
import { generateSecrets } from "./secrets.js";
import { ApiSlots } from "./slots.js";
import type { RunSettings } from "./tokens.js";

/** What a call is doing, for the progress events it reports. */
export type CallAction = PlannedChange["action"] | "sweep" | "read";

/**
 * One command's working set, shared by the phase modules (plan, refresh, apply, rolling, destroy): the
 * state as last written, serialised state writes (the journal's are in `journal.ts`), the lock, step events,
 * and calls with retry and deadline.
 */
export class ClusterRun {
  readonly resolved: ResolvedConfig;
  readonly store: StateStore;
  readonly settings: RunSettings;
  readonly container: DependencyContainer;
  #state: ClusterState | undefined;
  #writes: Promise<void> = Promise.resolve();
  /** At most `parallelism` cloud API calls in flight across the command (see `ResourceContext.limit`). */
  readonly slots: ApiSlots;
  /** Each resource's longest remaining path, from the graph being run: its calls' place in the slots' queue. */
  readonly #priorities = new Map<string, number>();
  /** The running command's signal: the caller's, joined with the state lock's (lost lock = stop). */
  signal: AbortSignal;

  constructor(
    resolved: ResolvedConfig,
    store: StateStore,
    settings: RunSettings,
    container: DependencyContainer,
  ) {
    this.resolved = resolved;
    this.store = store;
    this.settings = settings;
    this.container = container;
    this.signal = settings.signal;
    this.slots = new ApiSlots(settings.parallelism);
  }

  /** Sets the priority of resources' API calls (their longest remaining path; see `remainingPaths`). */
  prioritize(paths: ReadonlyMap<string, number>): void {
    for (const [id, path] of paths) this.#priorities.set(id, path);
  }

  get config() {
    return this.resolved.config;
  }

  get state(): ClusterState | undefined {
    return this.#state;
  }

  /** Takes the state as read (status, plan) without writing it. */
  adopt(state: ClusterState | undefined): void {
    this.#state = state;
  }

  emit(event: ProgressEvent): void {
    try {
      this.settings.onEvent(event);
    } catch {
      // A listener's failure must not break provisioning.
    }
  }

  builder(state: ClusterState | undefined = this.#state): SpecBuilder {
    return new SpecBuilder(this.resolved, state?.secrets, this.resolved.k3sVersion, this.#placement());
  }

  /** Where the secrets live when the compute provider has a store (validated to come with a reader). */
  #placement(): SecretPlacement | undefined {
    const reader = this.resolved.compute.provider.secretReader;
    if (!usesSecretStore(this.resolved) || !reader) return undefined;
    const store = this.container.resolve(SecretStoreService);
    return { nameOf: (key) => store.nameOf(this.config.name, key), reader };
  }

  /**
   * Reads the state and checks it belongs to this config's cluster, before any cloud call: a state
   * written for another cluster name is refused, so nothing of that cluster is ever read, changed or swept.
   */
  async readState(options?: { secrets?: boolean }): Promise<ClusterState | undefined> {
    return checkStateCluster(this.config.name, await this.store.read(options));
  }

  /** The ownership tags of this cluster: its name and, for states that have one, its random id. */
  clusterTags(state: ClusterState | undefined = this.#state): Tags {
    return {
      ...clusterTags(this.config.name),
      ...(state?.clusterId ? { [TAG_CLUSTER_ID]: state.clusterId } : {}),
    };
  }

  /**
   * Runs a mutating command under the state lock: the run's signal joins the caller's with the lock's (a
   * lost lock stops the run), and every queued state write lands before the lock is released.
   */
  async locked<T>(operation: string, command: () => Promise<T>): Promise<T> {
    const lock: Lock = await this.store.lock(operation);
    this.signal = lock.signal ? AbortSignal.any([this.settings.signal, lock.signal]) : this.settings.signal;
    try {
      return await command();
    } finally {
      await this.settle();
      await lock.release();
    }
  }

  /** Waits for every queued state write. */
  async settle(): Promise<void> {
    await this.#writes;
  }

  /**
   * One step on a resource with its progress events: `start` (with `message`), then `done`, or `failed` with
   * the error's message before it is rethrown (unless `failed: false`: the caller reports it). `timed` adds
   * the elapsed time to `done` and `failed`.
   */
  async step<T>(
    resource: string,
    action: CallAction,
    work: () => Promise<T>,
    options: { message?: string | undefined; timed?: boolean; failed?: boolean } = {},
  ): Promise<T> {
    const started = Date.now();
    const elapsed = () => (options.timed ? { elapsedMs: Date.now() - started } : {});
    this.emit({
      type: "resource",
      resource,
      action,
      phase: "start",
      ...("message" in options ? { message: options.message } : {}),
    });
    try {
      const result = await work();
      this.emit({ type: "resource", resource, action, phase: "done", ...elapsed() });
      return result;
    } catch (error) {
      if (options.failed !== false)
        this.emit({
          type: "resource",
          resource,
          action,
          phase: "failed",
          message: error instanceof Error ? error.message : String(error),
          ...elapsed(),
        });
      throw error;
    }
  }

  /** Why the command stopped early: the caller's abort, or the state lock lost to another run. */
  stopped(then: string): AbortedError {
    const reason = this.signal.reason;
    const lockLost = !this.settings.signal.aborted && K3sinfraError.is(reason);
    return new AbortedError(
      lockLost ? `${(reason as Error).message} Stopped: ${then}` : `Interrupted: ${then}`,
      {
        cause: reason,
      },
    );
  }

  /** Serialises state writes; each one bumps the serial and is atomic in the store. */
  save(patch: (s: ClusterState) => Partial<ClusterState>): Promise<void> {
    const write = this.#writes.then(async () => {
      const current = this.#state;
      if (!current) throw new Error("state not loaded");
      const next = nextState(current, patch(current));
      await this.store.write(next);
      this.#state = next;
    });
    this.#writes = write.catch(() => undefined);
    return write;
  }

  /** Loads the state for a mutating command, generating the cluster's secrets and id on first use. */
  async loadForWrite(): Promise<ClusterState> {
    const state = (await this.readState()) ?? { ...emptyState(this.config.name), clusterId: newClusterId() };
    this.#state = state;
    if (!state.secrets?.datastoreK3sPassword || !state.hostname) {
      await this.save((s) => ({
        secrets: { ...generateSecrets(), ...s.secrets },
        hostname: s.hostname ?? this.config.rancher.hostname,
      }));
    }
    return this.#state ?? state;
  }

  /** Each provider's read-only checks, before the first mutating call of `operation`. */
  async preflight(operation: "up" | "destroy"): Promise<void> {
    const wiring = { resolved: this.resolved, run: this.settings };
    for (const bound of this.resolved.providers) {
      await preflightProvider(this.container, bound, providerContext(wiring, bound, operation), this.signal);
    }
  }

  context(id: string, generation: number, signal: AbortSignal, action: CallAction = "read"): ResourceContext {
    const state = this.#state;
    if (!state) throw new Error("state not loaded");
    return {
      cluster: this.config.name,
      resource: id,
      name: physicalName(this.config.name, id, generation),
      tags: { ...resourceTags(this.config.name, id), ...this.clusterTags(state) },
      idempotencyToken: idempotencyToken(state.lineage, id, generation),
      generation,
      region: this.config.region,
      signal,
      poll: this.settings.poll,
      report: (message) => this.emit({ type: "resource", resource: id, action, phase: "progress", message }),
      limit: (request) => this.slots.run(request, this.#priorities.get(id) ?? 0, signal),
    };
  }

  /** The recorded state of resource `id`, whatever its kind. */
  live(id: string): RecordedState | undefined {
    return this.#state?.resources[id]?.state;
  }

  /** The recorded state of resource `id`, typed, if it is of `kind`. */
  liveOf<K extends ResourceKind>(kind: K, id: string): StateOf<K> | undefined {
    return stateIn(this.#state?.resources ?? {}, kind, id);
  }

  /** The recorded state of a resource a call depends on; it must exist. */
  need<K extends ResourceKind>(kind: K, id: string): StateOf<K> {
    const s = this.liveOf(kind, id);
    if (!s) throw new ProviderError(`${id} is not in state; it must be created first`);
    return s;
  }

  /** The recorded nodes, in index order. */
  nodeStates(): NodeState[] {
    return Array.from({ length: this.config.nodes.count }, (_, i) =>
      this.liveOf("nodes", `node-${i}`),
    ).filter((s) => s !== undefined);
  }

  /** Old servers kept serving until their replacements are healthy (create-before-destroy). */
  deposedNodes(): NodeState[] {
    return (this.#state?.deposed ?? []).filter((d) => holds("nodes", d)).map((d) => d.state);
  }

  /** Runs one call with the retry policy, a per-resource deadline and progress events. */
  async call<T>(
    id: string,
    kind: ResourceKind,
    action: CallAction,
    signal: AbortSignal,
    fn: (ctx: ResourceContext) => Promise<T>,
    generation: number,
  ): Promise<T> {
    const k = kindOf(kind);
    const limit = this.settings.timeouts[k.timeoutOption ?? kind] ?? k.timeoutMs;
    const deadline = AbortSignal.timeout(limit);
    const combined = AbortSignal.any([signal, deadline]);
    const ctx = this.context(id, generation, combined, action);
    try {
      return await withRetry(() => fn(ctx), {
        signal: combined,
        onRetry: (error, attempt, delayMs) =>
          this.emit({
            type: "resource",
            resource: id,
            action,
            phase: "retry",
            message: `${error instanceof Error ? error.message : String(error)}; retry ${attempt} in ${Math.round(delayMs / 100) / 10} s`,
          }),
      });
    } catch (error) {
      if (deadline.aborted && !signal.aborted)
        throw new TimeoutError(`${id} did not finish within ${Math.round(limit / 1000)} s`, { cause: error });
      if (signal.aborted && !K3sinfraError.is(error, "Aborted"))
        throw new AbortedError(`${id} was interrupted`, { cause: error });
      throw error;
    }
  }
}

/** A short random id for a new cluster's state and tags. */
export const newClusterId = (): string => randomUUID().replaceAll("-", "").slice(0, 16);

/**
 * Refuses a state written for another cluster name, before any cloud call (exit 2): nothing of that
 * cluster is ever read, changed or swept through a config that names another.
 */
export function checkStateCluster(name: string, state: ClusterState | undefined): ClusterState | undefined {
  if (state && state.cluster !== name) {
    throw new InvalidConfigError([
      {
        path: "name",
        message: `is '${name}', but the state at this location belongs to cluster '${state.cluster}'${state.clusterId ? ` (id ${state.clusterId})` : ""}. Nothing was read or changed. Put name: ${state.cluster} back to manage that cluster, or give this config its own state file (state.path) to create a new one.`,
      },
    ]);
  }
  return state;
}

import { randomUUID } from "node:crypto";
import type { DependencyContainer } from "tsyringe";
import type { PlannedChange, ProgressEvent } from "../api/types.js";
import type { ResolvedConfig } from "../config/resolve.js";
import { AbortedError, InvalidConfigError, K3sinfraError, ProviderError, TimeoutError } from "../errors.js";
import { clusterTags, idempotencyToken, physicalName, resourceTags, TAG_CLUSTER_ID } from "../naming.js";
import { providerContext } from "../provider-context.js";
import { preflightProvider } from "../provider-services.js";
import type { ResourceContext, ResourceState, Tags } from "../resources/common.js";
import type { NodeState } from "../resources/node.js";
import { SecretStoreService } from "../resources/secret-store.js";
import { withRetry } from "../retry.js";
import { emptyState, nextState } from "../state/state.js";
import type { ClusterState, Intent, Lock, ResourceRecord, StateStore } from "../state/types.js";
import {
  desiredResources,
  type ResourceKind,
  type SecretPlacement,
  SpecBuilder,
  usesSecretStore,
} from "./desired.js";
import { generateSecrets } from "./secrets.js";
import { ApiSlots } from "./slots.js";
import type { RunSettings } from "./tokens.js";

/** A resource's state as the orchestrator handles it: an id and whatever the provider recorded. */
export type AnyState = ResourceState & Record<string, unknown>;

/** What a call is doing, for the progress events it reports. */
export type CallAction = PlannedChange["action"] | "sweep" | "read";

/** Per-resource time limits; real clouds take minutes for the datastore. */
const DEFAULT_TIMEOUTS: Readonly<Record<ResourceKind, number>> = {
  network: 10 * 60_000,
  nodes: 20 * 60_000,
  datastore: 60 * 60_000,
  loadBalancer: 20 * 60_000,
  targets: 10 * 60_000,
  dns: 15 * 60_000,
  bootstrap: 10 * 60_000,
  secrets: 5 * 60_000,
};

/**
 * One command's working set, shared by the phase modules (plan, refresh, apply, rolling, destroy): the
 * state as last written, serialised state writes, the journal, events, and calls with retry and deadline.
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

  /** Takes the state lock for a command; the returned signal stops the run if the lock is lost. */
  async lock(operation: string): Promise<Lock> {
    const lock = await this.store.lock(operation);
    this.signal = lock.signal ? AbortSignal.any([this.settings.signal, lock.signal]) : this.settings.signal;
    return lock;
  }

  /** Waits for every queued state write; call before releasing the lock. */
  async settle(): Promise<void> {
    await this.#writes;
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

  live(id: string): AnyState | undefined {
    return this.#state?.resources[id]?.state as AnyState | undefined;
  }

  need<T>(id: string): T {
    const s = this.live(id);
    if (!s) throw new ProviderError(`${id} is not in state; it must be created first`);
    return s as unknown as T;
  }

  /** The recorded nodes, in index order. */
  nodeStates(): NodeState[] {
    return Array.from({ length: this.config.nodes.count }, (_, i) => this.live(`node-${i}`))
      .filter((s): s is AnyState => s !== undefined)
      .map((s) => s as unknown as NodeState);
  }

  /** Old servers kept serving until their replacements are healthy (create-before-destroy). */
  deposedNodes(): NodeState[] {
    return (this.#state?.deposed ?? [])
      .filter((d) => d.kind === "nodes")
      .map((d) => d.state as unknown as NodeState);
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
    const limit = this.settings.timeouts[kind === "bootstrap" ? "nodes" : kind] ?? DEFAULT_TIMEOUTS[kind];
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

  /** Announces a mutating call before it is made, so a crash in the middle resumes without duplicates. */
  async journal(resource: string, action: Intent["action"], generation: number): Promise<string> {
    const id = randomUUID();
    const intent = this.intent(resource, action, generation);
    await this.save((s) => ({
      journal: [...s.journal.filter((i) => i.resource !== resource), { ...intent, id }],
    }));
    return id;
  }

  /** An intent for one resource generation (its token and physical name). */
  intent(resource: string, action: Intent["action"], generation: number): Intent {
    return {
      id: randomUUID(),
      resource,
      action,
      token: idempotencyToken(this.#state!.lineage, resource, generation),
      name: physicalName(this.config.name, resource, generation),
      generation,
      startedAt: new Date().toISOString(),
    };
  }

  /** The record a finished create or update leaves, with inputs computed against the states as they are now. */
  #recordOf(
    s: ClusterState,
    d: { id: string; kind: ResourceKind; provider: string },
    generation: number,
    state: AnyState,
  ) {
    const now = new Date().toISOString();
    const prev = s.resources[d.id];
    const resources = {
      ...s.resources,
      [d.id]: {
        resource: d.id,
        kind: d.kind,
        provider: d.provider,
        generation,
        inputs: {},
        state,
        createdAt: prev?.generation === generation ? prev.createdAt : now,
        updatedAt: now,
      } as ResourceRecord,
    };
    // Inputs are computed against the states as they are now, so the next plan sees no difference.
    const desired = desiredResources(this.resolved).find((x) => x.id === d.id);
    const inputs = desired
      ? this.builder(s).inputs(desired, (x) => resources[x]?.state as Record<string, unknown> | undefined)
      : {};
    return { ...resources, [d.id]: { ...(resources[d.id] as ResourceRecord), inputs } };
  }

  async record(
    d: { id: string; kind: ResourceKind; provider: string },
    generation: number,
    state: AnyState,
    intentId: string,
    extra: (s: ClusterState) => Partial<ClusterState> = () => ({}),
  ): Promise<void> {
    await this.save((s) => ({
      resources: this.#recordOf(s, d, generation, state),
      journal: s.journal.filter((i) => i.id !== intentId),
      ...extra(s),
    }));
  }

  /**
   * Drops a deleted resource from state. With `next`, the replacement's create intent is journaled in the same
   * write, so a crash right after never loses the new generation (reusing the old one would replay the old
   * idempotency token, which EC2 answers with the terminated instance).
   */
  async forget(id: string, intentId: string | undefined, next?: Intent): Promise<void> {
    await this.save((s) => {
      const { [id]: _gone, ...rest } = s.resources;
      const journal = s.journal.filter((i) => i.id !== intentId && !(next && i.resource === id));
      if (next) journal.push(next);
      return { resources: rest, journal };
    });
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

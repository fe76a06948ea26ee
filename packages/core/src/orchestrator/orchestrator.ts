import { randomBytes, randomUUID } from "node:crypto";
import { type DependencyContainer, inject, injectable } from "tsyringe";
import type {
  DestroyResult,
  Plan,
  PlannedChange,
  ProgressEvent,
  ResourceStatus,
  StatusReport,
  UpResult,
} from "../api/types.js";
import type { ResolvedConfig } from "../config/resolve.js";
import {
  AbortedError,
  K3sinfraError,
  PartialFailureError,
  PlanRefusedError,
  ProviderError,
  TimeoutError,
} from "../errors.js";
import { clusterTags, idempotencyToken, physicalName, resourceTags } from "../naming.js";
import { providerContext } from "../provider-context.js";
import type { ResourceContext, ResourceService, ResourceState, Tags } from "../resources/common.js";
import { DatastoreService, type DatastoreState } from "../resources/datastore.js";
import { DnsRecordService } from "../resources/dns-record.js";
import { LoadBalancerService, type LoadBalancerState } from "../resources/load-balancer.js";
import { NetworkService, type NetworkState } from "../resources/network.js";
import { NodeService, type NodeState } from "../resources/node.js";
import { withRetry } from "../retry.js";
import { emptyState, nextState } from "../state/state.js";
import type { ClusterSecrets, ClusterState, Intent, ResourceRecord, StateStore } from "../state/types.js";
import { datastoreReadiness } from "./datastore-readiness.js";
import { type DesiredResource, desiredResources, type ResourceKind, SpecBuilder } from "./desired.js";
import { buildOutputs } from "./outputs.js";
import { computePlan } from "./plan.js";
import { runGraph, type Task } from "./scheduler.js";
import {
  ClusterContainerToken,
  ResolvedConfigToken,
  type RunSettings,
  RunSettingsToken,
  StateStoreToken,
} from "./tokens.js";

type AnyState = ResourceState & Record<string, unknown>;

/** The operations the orchestrator needs from one kind of resource. */
interface Handler {
  create(ctx: ResourceContext): Promise<AnyState>;
  update(state: AnyState, ctx: ResourceContext): Promise<AnyState>;
  delete(state: AnyState, ctx: ResourceContext): Promise<void>;
  read(state: AnyState, ctx: ResourceContext): Promise<AnyState | undefined>;
  find(tags: Tags, ctx: ResourceContext): Promise<AnyState[]>;
}

/** The non-trivial actions of a plan, to tell whether two plans would do the same. */
const actionsOf = (plan: Plan): string =>
  plan.changes
    .filter((c) => c.action !== "no-op")
    .map((c) => `${c.resource}:${c.action}`)
    .join(",");

/** What a call is doing, for the progress events it reports. */
type CallAction = PlannedChange["action"] | "sweep" | "read";

/** Per-resource time limits; real clouds take minutes for the datastore. */
const DEFAULT_TIMEOUTS: Readonly<Record<ResourceKind, number>> = {
  network: 10 * 60_000,
  nodes: 20 * 60_000,
  datastore: 60 * 60_000,
  loadBalancer: 20 * 60_000,
  targets: 10 * 60_000,
  dns: 15 * 60_000,
  bootstrap: 10 * 60_000,
};

/** Deletion order: a resource goes after everything of a lower rank. */
const DELETE_RANK: Readonly<Record<ResourceKind, number>> = {
  dns: 0,
  bootstrap: 0,
  targets: 0,
  loadBalancer: 1,
  nodes: 1,
  datastore: 1,
  network: 2,
};

/** Kinds swept by ownership tags after each deletion rank (targets and bootstrap have no cloud object). */
const SWEEP_KINDS: readonly (readonly ResourceKind[])[] = [
  ["dns"],
  ["loadBalancer", "nodes", "datastore"],
  ["network"],
];

/** Alphanumeric secrets: safe in DSNs and YAML without quoting (anchors-k3s.md §3.7). */
const alphanumeric = (length: number): string => {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(length * 2);
  let out = "";
  // Rejection sampling keeps the distribution uniform.
  for (const b of bytes) if (b < 248 && out.length < length) out += chars[b % 62];
  return out.length === length ? out : alphanumeric(length);
};

export const generateSecrets = (): ClusterSecrets => ({
  k3sToken: alphanumeric(48),
  datastorePassword: alphanumeric(32),
  rancherBootstrapPassword: alphanumeric(24),
  datastoreK3sPassword: alphanumeric(32),
});

/**
 * Plans and applies one cluster: walks the dependency graph with bounded parallelism, journals every
 * mutating call before making it, records every result, and resumes cleanly after a crash.
 */
@injectable()
export class Orchestrator {
  readonly #resolved: ResolvedConfig;
  readonly #store: StateStore;
  readonly #run: RunSettings;
  readonly #container: DependencyContainer;
  #state: ClusterState | undefined;
  #writes: Promise<void> = Promise.resolve();
  /** The running command's signal: the caller's, joined with the state lock's (lost lock = stop). */
  #signal: AbortSignal = new AbortController().signal;

  constructor(
    @inject(ResolvedConfigToken) resolved: ResolvedConfig,
    @inject(StateStoreToken) store: StateStore,
    @inject(RunSettingsToken) run: RunSettings,
    @inject(ClusterContainerToken) container: DependencyContainer,
  ) {
    this.#resolved = resolved;
    this.#store = store;
    this.#run = run;
    this.#container = container;
    this.#signal = run.signal;
  }

  get #config() {
    return this.#resolved.config;
  }

  #emit(event: ProgressEvent): void {
    try {
      this.#run.onEvent(event);
    } catch {
      // A listener's failure must not break provisioning.
    }
  }

  #k3sVersion(): string {
    return this.#resolved.k3sVersion;
  }

  #builder(state: ClusterState | undefined): SpecBuilder {
    return new SpecBuilder(this.#resolved, state?.secrets, this.#k3sVersion());
  }

  #updatable(kind: ResourceKind): readonly string[] | "all" {
    switch (kind) {
      case "network":
        return this.#container.resolve(NetworkService).updatable;
      case "nodes":
        return this.#container.resolve(NodeService).updatable;
      case "datastore":
        return this.#container.resolve(DatastoreService).updatable;
      case "loadBalancer":
        return this.#container.resolve(LoadBalancerService).updatable;
      default:
        return "all";
    }
  }

  /** What `up` would do. Read-only: takes no lock and calls no cloud API. */
  async plan(): Promise<Plan> {
    const state = await this.#store.read();
    const { byId: _, ...plan } = computePlan({
      desired: desiredResources(this.#resolved),
      state,
      builder: this.#builder(state),
      updatable: (k) => this.#updatable(k),
    });
    return { ...plan, warnings: [...this.#resolved.warnings, ...plan.warnings] };
  }

  /** Why the command stopped early: the caller's abort, or the state lock lost to another run. */
  #stopped(then: string): AbortedError {
    const reason = this.#signal.reason;
    const lockLost = !this.#run.signal.aborted && K3sinfraError.is(reason);
    return new AbortedError(
      lockLost ? `${(reason as Error).message} Stopped: ${then}` : `Interrupted: ${then}`,
      { cause: reason },
    );
  }

  /** Serialises state writes; each one bumps the serial and is atomic in the store. */
  #save(patch: (s: ClusterState) => Partial<ClusterState>): Promise<void> {
    const write = this.#writes.then(async () => {
      const current = this.#state;
      if (!current) throw new Error("state not loaded");
      const next = nextState(current, patch(current));
      await this.#store.write(next);
      this.#state = next;
    });
    this.#writes = write.catch(() => undefined);
    return write;
  }

  #context(
    id: string,
    generation: number,
    signal: AbortSignal,
    action: CallAction = "read",
  ): ResourceContext {
    const state = this.#state;
    if (!state) throw new Error("state not loaded");
    return {
      cluster: this.#config.name,
      resource: id,
      name: physicalName(this.#config.name, id),
      tags: resourceTags(this.#config.name, id),
      idempotencyToken: idempotencyToken(state.lineage, id, generation),
      region: this.#config.region,
      signal,
      poll: this.#run.poll,
      report: (message) => this.#emit({ type: "resource", resource: id, action, phase: "progress", message }),
    };
  }

  #live(id: string): AnyState | undefined {
    return this.#state?.resources[id]?.state as AnyState | undefined;
  }

  #need<T>(id: string): T {
    const s = this.#live(id);
    if (!s) throw new ProviderError(`${id} is not in state; it must be created first`);
    return s as unknown as T;
  }

  #nodeStates(): NodeState[] {
    return Array.from({ length: this.#config.nodes.count }, (_, i) => this.#live(`node-${i}`))
      .filter((s): s is AnyState => s !== undefined)
      .map((s) => s as unknown as NodeState);
  }

  /** A handler over one resource service; the spec is built only when a call needs it. */
  #serviceHandler<Spec, State extends ResourceState>(
    svc: ResourceService<Spec, State>,
    spec: () => Spec,
  ): Handler {
    const cast = (p: Promise<unknown>) => p as Promise<AnyState>;
    return {
      create: (ctx) => cast(svc.create(spec(), ctx)),
      update: (s, ctx) => cast(this.#updateOr(svc.update?.bind(svc), s as unknown as State, spec(), ctx)),
      delete: (s, ctx) => svc.delete(s as unknown as State, ctx),
      read: (s, ctx) => cast(svc.read(s as unknown as State, ctx)),
      find: (t, ctx) => svc.findByTags(t, ctx) as unknown as Promise<AnyState[]>,
    };
  }

  #handler(kind: ResourceKind, id: string): Handler {
    const c = this.#container;
    const builder = this.#builder(this.#state);
    const cast = (p: Promise<unknown>) => p as Promise<AnyState>;
    const castMany = (p: Promise<unknown[]>) => p as Promise<AnyState[]>;
    switch (kind) {
      case "network":
        return this.#serviceHandler(c.resolve(NetworkService), () => builder.networkSpec());
      case "nodes": {
        const index = Number(id.slice("node-".length));
        return this.#serviceHandler(c.resolve(NodeService), () =>
          builder.nodeSpec(index, this.#need<NetworkState>("network")),
        );
      }
      case "datastore":
        return this.#serviceHandler(c.resolve(DatastoreService), () =>
          builder.datastoreSpec(this.#need<NetworkState>("network")),
        );
      case "loadBalancer":
        return this.#serviceHandler(c.resolve(LoadBalancerService), () =>
          builder.loadBalancerSpec(this.#need<NetworkState>("network")),
        );
      case "targets": {
        const svc = c.resolve(LoadBalancerService);
        const lb = () => this.#need<LoadBalancerState>("load-balancer");
        const set = (ctx: ResourceContext) => cast(svc.setTargets(lb(), this.#nodeStates(), ctx));
        return {
          create: set,
          update: (_s, ctx) => set(ctx),
          delete: async (_s, ctx) => {
            const current = this.#live("load-balancer") as unknown as LoadBalancerState | undefined;
            if (current) await svc.setTargets(current, [], ctx);
          },
          read: async (_s, ctx) => {
            const current = this.#live("load-balancer") as unknown as LoadBalancerState | undefined;
            return current ? cast(svc.getTargets(current, ctx)) : undefined;
          },
          find: async () => [],
        };
      }
      case "dns": {
        const svc = c.resolve(DnsRecordService);
        const spec = () => builder.dnsSpec(this.#need<LoadBalancerState>("load-balancer"));
        return {
          create: (ctx) => cast(svc.create(spec(), ctx)),
          // DNS creates are upserts, so a service without `update` converges through `create`.
          update: (s, ctx) =>
            cast(svc.update ? svc.update(s as never, spec(), ctx) : svc.create(spec(), ctx)),
          delete: (s, ctx) => svc.delete(s as never, ctx),
          read: (s, ctx) => cast(svc.read(s as never, ctx)),
          find: (t, ctx) => castMany(svc.findByTags(t, ctx)),
        };
      }
      case "bootstrap": {
        const nodes = c.resolve(NodeService);
        const publish = async (ctx: ResourceContext): Promise<AnyState> => {
          const datastore = this.#need<DatastoreState>("datastore");
          const all = this.#nodeStates();
          const first = all[0];
          if (!first) throw new ProviderError("node-0 is not in state; it must be created first");
          const values = builder.bootstrapValues(datastore, first);
          if (nodes.publish) {
            for (const node of all) {
              ctx.report(`publishing datastore endpoint to ${node.name}`);
              await nodes.publish(node, values, ctx);
            }
          }
          ctx.report("checking the datastore");
          const readiness = await datastoreReadiness({
            config: this.#config,
            secrets: this.#state!.secrets!,
            datastore,
            address: this.#run.datastoreAddress({ host: datastore.host, port: datastore.port }),
            signal: ctx.signal,
          });
          if (readiness.status === "ready") {
            const made = [readiness.created.database && "database", readiness.created.user && "user"].filter(
              Boolean,
            );
            ctx.report(
              `datastore ready: ${readiness.flavor} ${readiness.serverVersion}${made.length > 0 ? `; created the K3s ${made.join(" and ")}` : ""}`,
            );
          }
          if (readiness.status === "skipped")
            this.#emit({ type: "warning", message: `Datastore check skipped: ${readiness.reason}.` });
          else
            for (const w of readiness.warnings) this.#emit({ type: "warning", message: `Datastore: ${w}` });
          return {
            id: `${this.#config.name}-bootstrap`,
            published: Object.keys(values),
            nodeIds: all.map((n) => n.id),
            datastore: readiness,
          };
        };
        return {
          create: publish,
          update: (_s, ctx) => publish(ctx),
          delete: async () => undefined,
          read: async (s) => s,
          find: async () => [],
        };
      }
    }
  }

  async #updateOr<S, Spec>(
    update: ((s: S, spec: Spec, ctx: ResourceContext) => Promise<S>) | undefined,
    state: S,
    spec: Spec,
    ctx: ResourceContext,
  ): Promise<S> {
    if (!update) throw new ProviderError(`${ctx.resource}: the provider cannot update it in place`);
    return update(state, spec, ctx);
  }

  /** Runs one call with the retry policy, a per-resource deadline and progress events. */
  async #call<T>(
    id: string,
    kind: ResourceKind,
    action: CallAction,
    signal: AbortSignal,
    fn: (ctx: ResourceContext, generation: number) => Promise<T>,
    generation: number,
  ): Promise<T> {
    const limit = this.#run.timeouts[kind === "bootstrap" ? "nodes" : kind] ?? DEFAULT_TIMEOUTS[kind];
    const deadline = AbortSignal.timeout(limit);
    const combined = AbortSignal.any([signal, deadline]);
    const ctx = this.#context(id, generation, combined, action);
    try {
      return await withRetry(() => fn(ctx, generation), {
        signal: combined,
        onRetry: (error, attempt, delayMs) =>
          this.#emit({
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

  async #journal(intent: Omit<Intent, "id" | "startedAt">): Promise<string> {
    const id = randomUUID();
    await this.#save((s) => ({
      journal: [
        ...s.journal.filter((i) => i.resource !== intent.resource),
        { ...intent, id, startedAt: new Date().toISOString() },
      ],
    }));
    return id;
  }

  async #record(
    d: { id: string; kind: ResourceKind; provider: string },
    generation: number,
    state: AnyState,
    intentId: string,
  ): Promise<void> {
    const now = new Date().toISOString();
    await this.#save((s) => {
      const prev = s.resources[d.id];
      const withNew = {
        ...s.resources,
        [d.id]: {
          resource: d.id,
          kind: d.kind,
          provider: d.provider,
          generation,
          inputs: {},
          state,
          createdAt: prev?.createdAt ?? now,
          updatedAt: now,
        } as ResourceRecord,
      };
      // Inputs are computed against the states as they are now, so the next plan sees no difference.
      const desired = desiredResources(this.#resolved).find((x) => x.id === d.id);
      const inputs = desired
        ? this.#builder(s).inputs(desired, (x) => withNew[x]?.state as Record<string, unknown> | undefined)
        : {};
      return {
        resources: { ...withNew, [d.id]: { ...(withNew[d.id] as ResourceRecord), inputs } },
        journal: s.journal.filter((i) => i.id !== intentId),
      };
    });
  }

  /**
   * Drops a deleted resource from state. With `next`, the replacement's create intent is journaled in the same
   * write, so a crash right after never loses the new generation (reusing the old one would replay the old
   * idempotency token, which EC2 answers with the terminated instance).
   */
  async #forget(id: string, intentId: string, next?: Omit<Intent, "id" | "startedAt">): Promise<void> {
    await this.#save((s) => {
      const { [id]: _gone, ...rest } = s.resources;
      const journal = s.journal.filter((i) => i.id !== intentId);
      if (next) journal.push({ ...next, id: randomUUID(), startedAt: new Date().toISOString() });
      return { resources: rest, journal };
    });
  }

  async #apply(d: DesiredResource, change: PlannedChange, signal: AbortSignal): Promise<void> {
    const started = Date.now();
    this.#emit({
      type: "resource",
      resource: d.id,
      action: change.action,
      phase: "start",
      message: change.reason,
    });
    try {
      const record = this.#state?.resources[d.id];
      let generation = record?.generation ?? 0;
      if (change.action === "replace" && record) {
        const oldHandler = this.#handler(record.kind as ResourceKind, d.id);
        const intent = await this.#journal({
          resource: d.id,
          action: "delete",
          token: idempotencyToken(this.#state!.lineage, d.id, generation),
          name: physicalName(this.#config.name, d.id),
          generation,
        });
        await this.#call(
          d.id,
          d.kind,
          "delete",
          signal,
          (ctx) => oldHandler.delete(record.state as AnyState, ctx),
          generation,
        );
        generation += 1;
        await this.#forget(d.id, intent, {
          resource: d.id,
          action: "create",
          token: idempotencyToken(this.#state!.lineage, d.id, generation),
          name: physicalName(this.#config.name, d.id),
          generation,
        });
      }
      // A create after a crash reuses the journaled generation, so the same idempotency token adopts.
      const pending = this.#state?.journal.find((i) => i.resource === d.id && i.action === "create");
      if (!record && pending) generation = pending.generation;
      const action = change.action === "update" ? "update" : "create";
      const intent = await this.#journal({
        resource: d.id,
        action,
        token: idempotencyToken(this.#state!.lineage, d.id, generation),
        name: physicalName(this.#config.name, d.id),
        generation,
      });
      const handler = this.#handler(d.kind, d.id);
      const result = await this.#call(
        d.id,
        d.kind,
        change.action,
        signal,
        (ctx) =>
          action === "update" && record ? handler.update(record.state as AnyState, ctx) : handler.create(ctx),
        generation,
      );
      await this.#record(d, generation, result, intent);
      this.#emit({
        type: "resource",
        resource: d.id,
        action: change.action,
        phase: "done",
        elapsedMs: Date.now() - started,
      });
    } catch (error) {
      this.#emit({
        type: "resource",
        resource: d.id,
        action: change.action,
        phase: "failed",
        message: error instanceof Error ? error.message : String(error),
        elapsedMs: Date.now() - started,
      });
      throw error;
    }
  }

  async #loadForWrite(): Promise<ClusterState> {
    const state = (await this.#store.read()) ?? emptyState(this.#config.name);
    this.#state = state;
    if (!state.secrets?.datastoreK3sPassword || !state.hostname) {
      await this.#save((s) => ({
        secrets: { ...generateSecrets(), ...s.secrets },
        hostname: s.hostname ?? this.#config.rancher.hostname,
      }));
    }
    return this.#state ?? state;
  }

  async #preflight(): Promise<void> {
    const wiring = { resolved: this.#resolved, run: this.#run };
    for (const bound of this.#resolved.providers) {
      await bound.provider.preflight?.(this.#container, providerContext(wiring, bound), this.#signal);
    }
  }

  /** Creates or converges the cluster, then records and returns the outputs. */
  async up(): Promise<UpResult> {
    const lock = await this.#store.lock("up");
    this.#signal = lock.signal ? AbortSignal.any([this.#run.signal, lock.signal]) : this.#run.signal;
    try {
      // Planned under the lock, before anything is written, so what the caller confirms is what runs.
      const desired = desiredResources(this.#resolved);
      const planFor = (s: ClusterState | undefined) =>
        computePlan({ desired, state: s, builder: this.#builder(s), updatable: (k) => this.#updatable(k) });
      const shown = planFor((await this.#store.read()) ?? undefined);
      const { byId: _shownById, ...shownPlan } = shown;
      const fullPlan: Plan = { ...shownPlan, warnings: [...this.#resolved.warnings, ...shownPlan.warnings] };
      this.#emit({ type: "plan", plan: fullPlan });
      for (const w of fullPlan.warnings) this.#emit({ type: "warning", message: w });
      if (!fullPlan.empty && this.#run.confirm && (await this.#run.confirm(fullPlan)) === false) {
        throw new AbortedError("Cancelled at the confirmation; nothing was changed.");
      }
      const state = await this.#loadForWrite();
      const { byId, ...plan } = planFor(state);
      if (actionsOf(plan) !== actionsOf(fullPlan)) {
        throw new PlanRefusedError(
          "The plan changed while the cluster's secrets were generated; nothing was changed. Run up again to review it.",
        );
      }
      if (!plan.empty) await this.#preflight();

      const tasks: Task[] = desired
        .filter((d) => byId.get(d.id)?.action !== "no-op")
        .map((d) => ({
          id: d.id,
          dependsOn: d.dependsOn,
          run: (signal: AbortSignal) => this.#apply(d, byId.get(d.id)!, signal),
        }));
      const outcomes = await runGraph(tasks, {
        parallelism: this.#run.parallelism,
        signal: this.#signal,
        onSkip: (id, because) =>
          this.#emit({
            type: "resource",
            resource: id,
            action: byId.get(id)?.action ?? "create",
            phase: "skipped",
            message: because,
          }),
      });
      const failures = [...outcomes]
        .filter(([, o]) => o.status === "failed")
        .map(([resource, o]) => ({ resource, error: (o as { error: unknown }).error }));

      // Resources that left the config go last, once their replacements and the LB targets are settled.
      if (failures.length === 0) {
        const removals = plan.changes.filter((c) => c.action === "delete");
        const removalOutcomes = await runGraph(
          removals.map((c) => ({
            id: c.resource,
            dependsOn: [],
            run: (signal: AbortSignal) => this.#remove(c.resource, signal),
          })),
          { parallelism: this.#run.parallelism, signal: this.#signal },
        );
        for (const [resource, o] of removalOutcomes)
          if (o.status === "failed") failures.push({ resource, error: o.error });
      }
      if (this.#signal.aborted)
        throw this.#stopped(
          "finished resources are recorded in state; run the same command again to resume.",
        );
      if (failures.length > 0) throw new PartialFailureError(failures);
      const outputs = buildOutputs({
        config: this.#config,
        state: this.#state!,
        k3sVersion: this.#k3sVersion(),
        showSecrets: false,
        datastoreTls: this.#resolved.compute.provider.datastoreCaUrl?.(this.#config.region) !== undefined,
      });
      await this.#save(() => ({ outputs: outputs as unknown as Record<string, unknown> }));
      return { plan: fullPlan, outputs };
    } finally {
      await this.#writes;
      await lock.release();
    }
  }

  async #remove(id: string, signal: AbortSignal, options: { allowProtected?: boolean } = {}): Promise<void> {
    const record = this.#state?.resources[id];
    if (!record) return;
    const kind = record.kind as ResourceKind;
    const started = Date.now();
    this.#emit({ type: "resource", resource: id, action: "delete", phase: "start" });
    try {
      const handler = this.#handler(kind, id);
      const intent = await this.#journal({
        resource: id,
        action: "delete",
        token: idempotencyToken(this.#state!.lineage, id, record.generation),
        name: physicalName(this.#config.name, id),
        generation: record.generation,
      });
      await this.#call(
        id,
        kind,
        "delete",
        signal,
        async (ctx) => {
          let state = record.state as AnyState;
          if (kind === "datastore" && (state as unknown as DatastoreState).deletionProtection) {
            if (!options.allowProtected) {
              throw new K3sinfraError(
                "DependencyViolation",
                `the datastore ${(state as unknown as DatastoreState).name} has deletion protection on. To delete it and the cluster's data, run destroy with --allow-protected (or set datastore.deletionProtection: false and run up first).`,
              );
            }
            ctx.report("turning deletion protection off");
            const svc = this.#container.resolve(DatastoreService);
            const spec = this.#builder(this.#state).datastoreSpec(this.#need<NetworkState>("network"), {
              deletionProtection: false,
            });
            state = (await this.#updateOr(
              svc.update?.bind(svc),
              state as never,
              spec,
              ctx,
            )) as unknown as AnyState;
          }
          await handler.delete(state, ctx);
        },
        record.generation,
      );
      await this.#forget(id, intent);
      this.#emit({
        type: "resource",
        resource: id,
        action: "delete",
        phase: "done",
        elapsedMs: Date.now() - started,
      });
    } catch (error) {
      this.#emit({
        type: "resource",
        resource: id,
        action: "delete",
        phase: "failed",
        message: error instanceof Error ? error.message : String(error),
        elapsedMs: Date.now() - started,
      });
      throw error;
    }
  }

  /** Deletes everything in state in reverse dependency order, then sweeps whatever still carries the cluster's tags. */
  async destroy(options: { allowProtected?: boolean } = {}): Promise<DestroyResult> {
    const lock = await this.#store.lock("destroy");
    this.#signal = lock.signal ? AbortSignal.any([this.#run.signal, lock.signal]) : this.#run.signal;
    try {
      const stored = await this.#store.read();
      this.#state = stored ?? emptyState(this.#config.name);
      await this.#preflight();
      // Rank by rank: what state records, then whatever else carries the cluster's tags (an object a crash
      // kept out of the state), so nothing left over blocks the network's deletion.
      const deleted: string[] = [];
      const swept: { kind: string; id: string }[] = [];
      for (const rank of [0, 1, 2]) {
        const records = Object.values(this.#state.resources).filter(
          (r) => (DELETE_RANK[r.kind as ResourceKind] ?? 1) === rank,
        );
        const outcomes = await runGraph(
          records.map((r) => ({
            id: r.resource,
            dependsOn: [],
            run: (signal: AbortSignal) => this.#remove(r.resource, signal, options),
          })),
          { parallelism: this.#run.parallelism, signal: this.#signal },
        );
        const failures = [...outcomes]
          .filter(([, o]) => o.status === "failed")
          .map(([resource, o]) => ({ resource, error: (o as { error: unknown }).error }));
        deleted.push(...[...outcomes].filter(([, o]) => o.status === "done").map(([id]) => id));
        if (this.#signal.aborted)
          throw this.#stopped("what was deleted is recorded; run destroy again to finish.");
        if (failures.length > 0) {
          const later = Object.values(this.#state.resources).filter(
            (r) => (DELETE_RANK[r.kind as ResourceKind] ?? 1) > rank,
          );
          for (const r of later)
            this.#emit({
              type: "resource",
              resource: r.resource,
              action: "delete",
              phase: "skipped",
              message: "kept until the failures above are fixed",
            });
          throw new PartialFailureError(failures);
        }
        swept.push(...(await this.#sweep(SWEEP_KINDS[rank] ?? [], options)));
      }
      if (stored) {
        await this.#writes;
        await this.#store.remove();
      }
      this.#state = undefined;
      return { deleted, swept };
    } finally {
      await this.#writes;
      await lock.release();
    }
  }

  /** Finds what still carries the cluster's ownership tags (a crash between create and record, say) and deletes it. */
  async #sweep(
    kinds: readonly ResourceKind[],
    options: { allowProtected?: boolean },
  ): Promise<{ kind: string; id: string }[]> {
    const tags = clusterTags(this.#config.name);
    const swept: { kind: string; id: string }[] = [];
    for (const kind of kinds) {
      const found = await this.#call(
        `sweep-${kind}`,
        kind,
        "sweep",
        this.#signal,
        (ctx) => this.#handler(kind, "sweep").find(tags, ctx),
        0,
      );
      await Promise.all(
        found.map(async (state) => {
          this.#emit({
            type: "resource",
            resource: `${kind}:${state.id}`,
            action: "sweep",
            phase: "start",
            message: "found by ownership tags",
          });
          await this.#call(
            `sweep-${kind}`,
            kind,
            "sweep",
            this.#signal,
            async (ctx) => {
              let s = state;
              if (kind === "datastore" && (s as unknown as DatastoreState).deletionProtection) {
                if (!options.allowProtected)
                  throw new K3sinfraError(
                    "DependencyViolation",
                    `datastore ${s.id} carries this cluster's tags and has deletion protection on; run destroy with --allow-protected to delete it`,
                  );
                const svc = this.#container.resolve(DatastoreService);
                const network = this.#live("network") as unknown as NetworkState | undefined;
                if (svc.update && network)
                  s = (await svc.update(
                    s as never,
                    this.#builder(this.#state).datastoreSpec(network, { deletionProtection: false }),
                    ctx,
                  )) as unknown as AnyState;
              }
              await this.#handler(kind, "sweep").delete(s, ctx);
            },
            0,
          );
          swept.push({ kind, id: state.id });
          this.#emit({ type: "resource", resource: `${kind}:${state.id}`, action: "sweep", phase: "done" });
        }),
      );
    }
    return swept;
  }

  /** Reads every recorded resource and reports drift. Never writes state: a failed read is `unknown`, not gone. */
  async status(): Promise<StatusReport> {
    const state = await this.#store.read();
    const lock = await this.#store.lockInfo();
    const lockReport = lock
      ? { owner: lock.owner, operation: lock.operation, acquiredAt: lock.acquiredAt, id: lock.id }
      : undefined;
    if (!state)
      return {
        cluster: this.#config.name,
        exists: false,
        resources: [],
        ...(lockReport ? { lock: lockReport } : {}),
      };
    this.#state = state;
    const resources: ResourceStatus[] = [];
    for (const record of Object.values(state.resources)) {
      const kind = record.kind as ResourceKind;
      const base = { resource: record.resource, kind: record.kind, id: record.state.id };
      this.#emit({ type: "resource", resource: record.resource, action: "read", phase: "start" });
      try {
        const live = await this.#call(
          record.resource,
          kind,
          "read",
          this.#signal,
          (ctx) => this.#handler(kind, record.resource).read(record.state as AnyState, ctx),
          record.generation,
        );
        if (!live)
          resources.push({
            ...base,
            status: "missing",
            detail: "not found in the cloud; `up` will create it again",
          });
        else {
          const drift = Object.keys(record.state).filter(
            (k) => JSON.stringify(record.state[k]) !== JSON.stringify(live[k]),
          );
          resources.push(
            drift.length === 0
              ? { ...base, status: "ok" }
              : { ...base, status: "drifted", detail: `changed outside k3sinfra: ${drift.join(", ")}` },
          );
        }
        this.#emit({ type: "resource", resource: record.resource, action: "read", phase: "done" });
      } catch (error) {
        resources.push({
          ...base,
          status: "unknown",
          detail: `read failed: ${error instanceof Error ? error.message : String(error)}`,
        });
        this.#emit({
          type: "resource",
          resource: record.resource,
          action: "read",
          phase: "failed",
          message: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return {
      cluster: this.#config.name,
      exists: true,
      resources,
      ...(lockReport ? { lock: lockReport } : {}),
    };
  }
}

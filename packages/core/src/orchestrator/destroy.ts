import type { DestroyResult, Plan, PlannedChange } from "../api/types.js";
import { DeletionProtectedError, PartialFailureError } from "../errors.js";
import type { ResourceContext } from "../resources/common.js";
import { DatastoreService, type DatastoreState } from "../resources/datastore.js";
import type { NetworkState } from "../resources/network.js";
import { emptyState } from "../state/state.js";
import type { ClusterState, ResourceRecord } from "../state/types.js";
import { desiredResources, type ResourceKind, usesSecretStore } from "./desired.js";
import { expectedSeconds } from "./durations.js";
import { handlerFor } from "./handlers.js";
import { deposedId } from "./plan.js";
import type { AnyState, ClusterRun } from "./run.js";
import { remainingPaths, runGraph, type Task } from "./scheduler.js";

/** The order `plan --destroy` lists deletions in (destroy itself follows the reversed graph). */
const DELETE_RANK: Readonly<Record<ResourceKind, number>> = {
  dns: 0,
  bootstrap: 0,
  targets: 0,
  loadBalancer: 1,
  nodes: 1,
  datastore: 1,
  network: 2,
  // Nodes read their secrets only at boot; the store goes with them.
  secrets: 1,
};

/** Kinds swept by ownership tags once their records are deleted (targets and bootstrap have no cloud object). */
const SWEEP_KINDS: ReadonlySet<ResourceKind> = new Set([
  "dns",
  "loadBalancer",
  "nodes",
  "datastore",
  "secrets",
  "network",
]);

const rankOf = (r: Pick<ResourceRecord, "kind">): number => DELETE_RANK[r.kind as ResourceKind] ?? 1;

/** What destroy would delete, from the state alone: no cloud call, no secret read. */
export function destroyPlan(cluster: string, state: ClusterState | undefined): Plan {
  const records = [
    ...Object.values(state?.resources ?? {}),
    ...(state?.deposed ?? []).map((d) => ({ ...d, resource: deposedId(d) })),
  ].sort((a, b) => rankOf(a) - rankOf(b));
  const changes: PlannedChange[] = records.map((r) => ({
    resource: r.resource,
    kind: r.kind,
    action: "delete",
    reason:
      r.kind === "datastore" && (r.state as unknown as DatastoreState).deletionProtection
        ? "destroy; deletion protection is on: needs --allow-protected, and the cluster's data goes with it"
        : "destroy",
    dependsOn: [],
  }));
  const warnings = state
    ? [
        "Destroy also deletes whatever else carries the cluster's ownership tags (found by a sweep, not shown here).",
      ]
    : [];
  return { cluster, changes, warnings, empty: changes.length === 0 };
}

/** Turns a datastore's deletion protection off, or refuses with what to do. */
async function unprotect(
  run: ClusterRun,
  state: AnyState,
  ctx: Parameters<Parameters<ClusterRun["call"]>[4]>[0],
  allowProtected: boolean | undefined,
): Promise<AnyState> {
  const ds = state as unknown as DatastoreState;
  if (!ds.deletionProtection) return state;
  if (!allowProtected)
    throw new DeletionProtectedError(
      `the datastore ${ds.name ?? ds.id} has deletion protection on. To delete it and the cluster's data, run destroy with --allow-protected (or set datastore.deletionProtection: false and run up first).`,
    );
  const svc = run.container.resolve(DatastoreService);
  const network = run.live("network") as unknown as NetworkState | undefined;
  if (!svc.update || !network) return state;
  ctx.report("turning deletion protection off");
  const spec = run.builder().datastoreSpec(network, { deletionProtection: false });
  return (await svc.update(ds, spec, ctx)) as unknown as AnyState;
}

/**
 * A deletion nothing waits on: once the cloud accepted it, what depends on it may go (a DNS record's deletion
 * need not reach every name server before the load balancer it pointed at is deleted).
 */
const noSync = (ctx: ResourceContext): ResourceContext => ({ ...ctx, waitForSync: false });

/** Deletes one recorded resource, journaled, and drops it from state. */
export async function removeResource(
  run: ClusterRun,
  id: string,
  signal: AbortSignal,
  options: { allowProtected?: boolean } = {},
): Promise<void> {
  const record = run.state?.resources[id];
  if (!record) return;
  const kind = record.kind as ResourceKind;
  const started = Date.now();
  run.emit({ type: "resource", resource: id, action: "delete", phase: "start" });
  try {
    const intent = await run.journal(id, "delete", record.generation);
    await run.call(
      id,
      kind,
      "delete",
      signal,
      async (ctx) => {
        let state = record.state as AnyState;
        if (kind === "datastore") state = await unprotect(run, state, ctx, options.allowProtected);
        await handlerFor(run, kind, id).delete(state, noSync(ctx));
      },
      record.generation,
    );
    await run.forget(id, intent);
    run.emit({
      type: "resource",
      resource: id,
      action: "delete",
      phase: "done",
      elapsedMs: Date.now() - started,
    });
  } catch (error) {
    run.emit({
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

/** Deletes a deposed server or load balancer (a replacement interrupted before its predecessor was retired). */
async function removeDeposed(run: ClusterRun, key: string, signal: AbortSignal): Promise<void> {
  const d = (run.state?.deposed ?? []).find((x) => deposedId(x) === key);
  if (!d) return;
  run.emit({ type: "resource", resource: key, action: "delete", phase: "start" });
  const kind = d.kind as ResourceKind;
  await run.call(
    d.resource,
    kind,
    "delete",
    signal,
    (ctx) => handlerFor(run, kind, d.resource).delete(d.state as AnyState, ctx),
    d.generation,
  );
  await run.save((s) => ({ deposed: (s.deposed ?? []).filter((x) => deposedId(x) !== key) }));
  run.emit({ type: "resource", resource: key, action: "delete", phase: "done" });
}

/**
 * Deletes everything in state along the reversed dependency graph, each kind swept by ownership tags as soon
 * as its own records are gone, then removes the state.
 */
export async function destroyCluster(
  run: ClusterRun,
  options: { allowProtected?: boolean },
): Promise<DestroyResult> {
  const lock = await run.lock("destroy");
  try {
    const stored = await run.readState();
    run.adopt(stored ?? emptyState(run.config.name));
    await run.preflight("destroy");
    const swept: { kind: string; id: string }[] = [];
    const { tasks, records } = teardownTasks(run, {
      remove: (id, signal) => removeResource(run, id, signal, options),
      removeDeposed: (key, signal) => removeDeposed(run, key, signal),
      sweep: async (kind) => {
        // Only the kinds this cluster's providers serve (no secret store: no secrets to sweep).
        if (kind === "secrets" && !usesSecretStore(run.resolved)) return;
        swept.push(...(await sweep(run, [kind], options)));
      },
    });
    run.prioritize(remainingPaths(tasks));
    const outcomes = await runGraph(tasks, {
      signal: run.signal,
      // A resource whose dependents could not all be deleted is kept, with the reason.
      onSkip: (id, because) => {
        if (records.has(id) && !run.signal.aborted)
          run.emit({
            type: "resource",
            resource: id,
            action: "delete",
            phase: "skipped",
            message: `kept until the failures are fixed (${keptBecause(because)})`,
          });
      },
    });
    const deleted = [...outcomes]
      .filter(([id, o]) => records.has(id) && o.status === "done")
      .map(([id]) => id);
    const failures = [...outcomes]
      .filter(([, o]) => o.status === "failed")
      .map(([resource, o]) => ({ resource, error: (o as { error: unknown }).error }));
    if (run.signal.aborted) throw run.stopped("what was deleted is recorded; run destroy again to finish.");
    if (failures.length > 0) throw new PartialFailureError(failures);
    if (stored) {
      await run.settle();
      await run.store.remove();
    }
    run.adopt(undefined);
    return { deleted, swept };
  } finally {
    await run.settle();
    await lock.release();
  }
}

const LABELS: Readonly<Record<ResourceKind, string>> = {
  network: "the network",
  secrets: "the secrets",
  datastore: "the datastore",
  nodes: "the servers",
  loadBalancer: "the load balancer",
  targets: "the load balancer's targets",
  dns: "the DNS record",
  bootstrap: "bootstrap",
};

/** Why a resource is kept, in words: `sweep-datastore did not complete` → what it waits for. */
const keptBecause = (because: string): string => {
  const kind = /^sweep-(\w+) did not complete$/.exec(because)?.[1] as ResourceKind | undefined;
  return kind && LABELS[kind] ? `it needs ${LABELS[kind]} deleted first` : because;
};

/** Every kind, for the kind-level graph (nodes are interchangeable: they all depend on the same kinds). */
const KINDS: readonly ResourceKind[] = [
  "network",
  "secrets",
  "datastore",
  "nodes",
  "loadBalancer",
  "targets",
  "dns",
  "bootstrap",
];

/** What each kind depends on, from the desired graph (`desired.ts`), for kinds it has; else as it is drawn. */
function kindDependencies(run: ClusterRun): Map<ResourceKind, Set<ResourceKind>> {
  const drawn: Readonly<Record<ResourceKind, readonly ResourceKind[]>> = {
    network: [],
    secrets: [],
    datastore: ["network"],
    nodes: ["network", "secrets"],
    loadBalancer: ["network"],
    targets: ["loadBalancer", "nodes"],
    dns: ["loadBalancer"],
    bootstrap: ["datastore", "nodes"],
  };
  const desired = desiredResources(run.resolved);
  const kindOf = new Map(desired.map((d) => [d.id, d.kind]));
  const deps = new Map<ResourceKind, Set<ResourceKind>>();
  for (const kind of KINDS) {
    const mine = desired.filter((d) => d.kind === kind);
    deps.set(
      kind,
      new Set(
        mine.length > 0 ? mine.flatMap((d) => d.dependsOn.flatMap((x) => kindOf.get(x) ?? [])) : drawn[kind],
      ),
    );
  }
  return deps;
}

/**
 * The reversed dependency graph as tasks. A recorded (or deposed) resource is deleted once everything that
 * depends on it is deleted and swept; `sweep-<kind>` runs once that kind's records are gone (what the state
 * never recorded goes too, before what it depends on: nothing stray blocks the network). So the datastore,
 * which only bootstrap depends on, starts deleting at once, and a failure keeps what it depends on.
 */
export function teardownTasks(
  run: ClusterRun,
  ops: {
    remove: (id: string, signal: AbortSignal) => Promise<void>;
    removeDeposed: (key: string, signal: AbortSignal) => Promise<void>;
    sweep: (kind: ResourceKind) => Promise<void>;
  },
): { tasks: Task[]; records: Set<string> } {
  const state = run.state!;
  const deps = kindDependencies(run);
  const dependents = (kind: ResourceKind) => KINDS.filter((k) => deps.get(k)?.has(kind));
  const swept = (kind: ResourceKind) => `sweep-${kind}`;
  const records = new Set<string>();
  const tasks: Task[] = [];
  for (const kind of KINDS) {
    const after = dependents(kind).map(swept);
    const weight = expectedSeconds(kind, "delete");
    const mine = [
      ...Object.values(state.resources)
        .filter((r) => r.kind === kind)
        .map(
          (r): Task => ({ id: r.resource, dependsOn: after, weight, run: (s) => ops.remove(r.resource, s) }),
        ),
      ...(state.deposed ?? [])
        .filter((d) => d.kind === kind)
        .map(deposedId)
        .map((key): Task => ({ id: key, dependsOn: after, weight, run: (s) => ops.removeDeposed(key, s) })),
    ];
    for (const t of mine) records.add(t.id);
    tasks.push(...mine, {
      id: swept(kind),
      dependsOn: [...mine.map((t) => t.id), ...after],
      weight: SWEEP_KINDS.has(kind) ? 1 : 0,
      run: async () => {
        if (SWEEP_KINDS.has(kind)) await ops.sweep(kind);
      },
    });
  }
  return { tasks, records };
}

/** Finds what still carries the cluster's ownership tags (a crash between create and record, say) and deletes it. */
async function sweep(
  run: ClusterRun,
  kinds: readonly ResourceKind[],
  options: { allowProtected?: boolean },
): Promise<{ kind: string; id: string }[]> {
  const tags = run.clusterTags();
  const swept: { kind: string; id: string }[] = [];
  for (const kind of kinds) {
    const found = await run.call(
      `sweep-${kind}`,
      kind,
      "sweep",
      run.signal,
      (ctx) => handlerFor(run, kind, "sweep").find(tags, ctx),
      0,
    );
    await Promise.all(
      found.map(async (state) => {
        const resource = `${kind}:${state.id}`;
        run.emit({
          type: "resource",
          resource,
          action: "sweep",
          phase: "start",
          message: "found by ownership tags",
        });
        await run.call(
          `sweep-${kind}`,
          kind,
          "sweep",
          run.signal,
          async (ctx) => {
            const s = kind === "datastore" ? await unprotect(run, state, ctx, options.allowProtected) : state;
            await handlerFor(run, kind, "sweep").delete(s, noSync(ctx));
          },
          0,
        );
        swept.push({ kind, id: state.id });
        run.emit({ type: "resource", resource, action: "sweep", phase: "done" });
      }),
    );
  }
  return swept;
}

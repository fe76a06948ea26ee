import type { DestroyResult, Plan, PlannedChange } from "../api/types.js";
import { PartialFailureError } from "../errors.js";
import { emptyState } from "../state/state.js";
import type { ClusterState, ResourceKind } from "../state/types.js";
import { forget, journal } from "./journal.js";
import { allKinds, expectedSeconds, kindDependencies, kindOf } from "./kinds/index.js";
import { deposedId } from "./plan.js";
import type { ClusterRun } from "./run.js";
import { remainingPaths, runGraph, type Task } from "./scheduler.js";

/** What destroy would delete, from the state alone: no cloud call, no secret read. */
export function destroyPlan(cluster: string, state: ClusterState | undefined): Plan {
  const records = [
    ...Object.values(state?.resources ?? {}),
    ...(state?.deposed ?? []).map((d) => ({ ...d, resource: deposedId(d) })),
  ].sort((a, b) => kindOf(a.kind).deleteRank - kindOf(b.kind).deleteRank);
  const changes: PlannedChange[] = records.map((r) => ({
    resource: r.resource,
    kind: r.kind,
    action: "delete",
    reason: kindOf(r.kind).isProtected(r)
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

/** Deletes one recorded resource, journaled, and drops it from state. */
export async function removeResource(
  run: ClusterRun,
  id: string,
  signal: AbortSignal,
  options: { allowProtected?: boolean } = {},
): Promise<void> {
  const record = run.state?.resources[id];
  if (!record) return;
  await run.step(
    id,
    "delete",
    async () => {
      const intentId = await journal(run, id, "delete", record.generation);
      await run.call(
        id,
        record.kind,
        "delete",
        signal,
        (ctx) => kindOf(record.kind).remove(run, id, record, ctx, options.allowProtected === true),
        record.generation,
      );
      await forget(run, id, intentId);
    },
    { timed: true },
  );
}

/** Deletes a deposed server or load balancer (a replacement interrupted before its predecessor was retired). */
async function removeDeposed(run: ClusterRun, key: string, signal: AbortSignal): Promise<void> {
  const d = (run.state?.deposed ?? []).find((x) => deposedId(x) === key);
  if (!d) return;
  await run.step(
    key,
    "delete",
    async () => {
      await run.call(
        d.resource,
        d.kind,
        "delete",
        signal,
        (ctx) => kindOf(d.kind).handler(run, d.resource).delete(d, ctx),
        d.generation,
      );
      await run.save((s) => ({ deposed: (s.deposed ?? []).filter((x) => deposedId(x) !== key) }));
    },
    { failed: false },
  );
}

/**
 * Deletes everything in state along the reversed dependency graph, each kind swept by ownership tags as soon
 * as its own records are gone, then removes the state.
 */
export async function destroyCluster(
  run: ClusterRun,
  options: { allowProtected?: boolean },
): Promise<DestroyResult> {
  return run.locked("destroy", async () => {
    const stored = await run.readState();
    run.adopt(stored ?? emptyState(run.config.name));
    await run.preflight("destroy");
    const swept: { kind: string; id: string }[] = [];
    const { tasks, records } = teardownTasks(run, {
      remove: (id, signal) => removeResource(run, id, signal, options),
      removeDeposed: (key, signal) => removeDeposed(run, key, signal),
      sweep: async (kind) => {
        swept.push(...(await sweep(run, kind, options)));
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
  });
}

/** Why a resource is kept, in words: `sweep-datastore did not complete` → what it waits for. */
const keptBecause = (because: string): string => {
  const kind = /^sweep-(\w+) did not complete$/.exec(because)?.[1];
  const label = allKinds().find((k) => k.kind === kind)?.label;
  return label ? `it needs ${label} deleted first` : because;
};

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
  const deps = kindDependencies(run.resolved);
  const kinds = allKinds().map((k) => k.kind);
  const dependents = (kind: ResourceKind) => kinds.filter((k) => deps.get(k)?.has(kind));
  const swept = (kind: ResourceKind) => `sweep-${kind}`;
  const records = new Set<string>();
  const tasks: Task[] = [];
  for (const kind of kinds) {
    const k = kindOf(kind);
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
      weight: k.sweeps ? 1 : 0,
      run: async () => {
        if (k.sweeps && (k.servedBy?.(run.resolved) ?? true)) await ops.sweep(kind);
      },
    });
  }
  return { tasks, records };
}

/** Finds what of one kind still carries the cluster's ownership tags (a crash between create and record, say) and deletes it. */
async function sweep(
  run: ClusterRun,
  kind: ResourceKind,
  options: { allowProtected?: boolean },
): Promise<{ kind: string; id: string }[]> {
  const tags = run.clusterTags();
  const swept: { kind: string; id: string }[] = [];
  const id = `sweep-${kind}`;
  const found = await run.call(
    id,
    kind,
    "sweep",
    run.signal,
    (ctx) => kindOf(kind).leftovers(run, tags, ctx),
    0,
  );
  await Promise.all(
    found.map(async (leftover) => {
      await run.step(
        `${kind}:${leftover.id}`,
        "sweep",
        () =>
          run.call(
            id,
            kind,
            "sweep",
            run.signal,
            (ctx) => leftover.remove(ctx, options.allowProtected === true),
            0,
          ),
        { message: "found by ownership tags", failed: false },
      );
      swept.push({ kind, id: leftover.id });
    }),
  );
  return swept;
}

import type { DestroyResult, Plan, PlannedChange } from "../api/types.js";
import { K3sinfraError, PartialFailureError } from "../errors.js";
import { DatastoreService, type DatastoreState } from "../resources/datastore.js";
import type { NetworkState } from "../resources/network.js";
import { emptyState } from "../state/state.js";
import type { ClusterState, ResourceRecord } from "../state/types.js";
import { type ResourceKind, usesSecretStore } from "./desired.js";
import { handlerFor } from "./handlers.js";
import { deposedId } from "./plan.js";
import type { AnyState, ClusterRun } from "./run.js";
import { runGraph } from "./scheduler.js";

/** Deletion order: a resource goes after everything of a lower rank. */
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

/** Kinds swept by ownership tags after each deletion rank (targets and bootstrap have no cloud object). */
const SWEEP_KINDS: readonly (readonly ResourceKind[])[] = [
  ["dns"],
  ["loadBalancer", "nodes", "datastore", "secrets"],
  ["network"],
];

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
    throw new K3sinfraError(
      "DependencyViolation",
      `the datastore ${ds.name ?? ds.id} has deletion protection on. To delete it and the cluster's data, run destroy with --allow-protected (or set datastore.deletionProtection: false and run up first).`,
    );
  const svc = run.container.resolve(DatastoreService);
  const network = run.live("network") as unknown as NetworkState | undefined;
  if (!svc.update || !network) return state;
  ctx.report("turning deletion protection off");
  const spec = run.builder().datastoreSpec(network, { deletionProtection: false });
  return (await svc.update(ds, spec, ctx)) as unknown as AnyState;
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
        await handlerFor(run, kind, id).delete(state, ctx);
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

/** Deletes everything in state in reverse dependency order, then sweeps whatever still carries the cluster's tags. */
export async function destroyCluster(
  run: ClusterRun,
  options: { allowProtected?: boolean },
): Promise<DestroyResult> {
  const lock = await run.lock("destroy");
  try {
    const stored = await run.readState();
    run.adopt(stored ?? emptyState(run.config.name));
    await run.preflight("destroy");
    // Rank by rank: what state records, then whatever else carries the cluster's tags (an object a crash
    // kept out of the state), so nothing left over blocks the network's deletion.
    const deleted: string[] = [];
    const swept: { kind: string; id: string }[] = [];
    for (const rank of [0, 1, 2]) {
      const state = run.state!;
      const records = Object.values(state.resources).filter((r) => rankOf(r) === rank);
      const deposed = rank === 1 ? (state.deposed ?? []).map(deposedId) : [];
      const outcomes = await runGraph(
        [
          ...records.map((r) => ({
            id: r.resource,
            dependsOn: [],
            run: (signal: AbortSignal) => removeResource(run, r.resource, signal, options),
          })),
          ...deposed.map((key) => ({
            id: key,
            dependsOn: [],
            run: (signal: AbortSignal) => removeDeposed(run, key, signal),
          })),
        ],
        { parallelism: run.settings.parallelism, signal: run.signal },
      );
      const failures = [...outcomes]
        .filter(([, o]) => o.status === "failed")
        .map(([resource, o]) => ({ resource, error: (o as { error: unknown }).error }));
      deleted.push(...[...outcomes].filter(([, o]) => o.status === "done").map(([id]) => id));
      if (run.signal.aborted) throw run.stopped("what was deleted is recorded; run destroy again to finish.");
      if (failures.length > 0) {
        for (const r of Object.values(run.state!.resources).filter((x) => rankOf(x) > rank))
          run.emit({
            type: "resource",
            resource: r.resource,
            action: "delete",
            phase: "skipped",
            message: "kept until the failures above are fixed",
          });
        throw new PartialFailureError(failures);
      }
      // Only the kinds this cluster's providers serve (no secret store: no secrets to sweep).
      const kinds = (SWEEP_KINDS[rank] ?? []).filter((k) => k !== "secrets" || usesSecretStore(run.resolved));
      swept.push(...(await sweep(run, kinds, options)));
    }
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
            await handlerFor(run, kind, "sweep").delete(s, ctx);
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

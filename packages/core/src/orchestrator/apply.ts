import type { Plan, PlannedChange, UpResult } from "../api/types.js";
import { AbortedError, PartialFailureError, PlanRefusedError } from "../errors.js";
import { describeFirewallRule } from "../network-rules.js";
import type { ClusterState } from "../state/types.js";
import { type DesiredResource, usesSecretStore } from "./desired.js";
import { removeResource } from "./destroy.js";
import { asRecord, forget, intent, journal, record as recordDone } from "./journal.js";
import { desiredResources, expectedSeconds, kindOf } from "./kinds/index.js";
import { type AppliedConfig, buildOutputs } from "./outputs.js";
import { computePlan } from "./plan.js";
import { waitReady } from "./ready.js";
import { type Observation, refreshForPlan } from "./refresh.js";
import { retirementTasks, rolloutOf, rollReplace, waitAllHealthy } from "./rolling.js";
import type { ClusterRun } from "./run.js";
import { remainingPaths, runGraph, type Task } from "./scheduler.js";

/** The non-trivial actions of a plan, to tell whether two plans would do the same. */
const actionsOf = (plan: Plan): string =>
  plan.changes
    .filter((c) => c.action !== "no-op")
    .map((c) => `${c.resource}:${c.action}`)
    .join(",");

/** How `plan` and `up` see the cloud: refreshed first (the default), or from the state alone. */
export interface PlanOptions {
  /** Read every recorded resource before planning (`--refresh=false` turns it off). Default true. */
  readonly refresh?: boolean;
}

/** Plans against the state and, unless turned off, what refresh found in the cloud. */
export async function planCluster(
  run: ClusterRun,
  state: ClusterState | undefined,
  options: PlanOptions,
): Promise<{ plan: ReturnType<typeof planWith>; observed: ReadonlyMap<string, Observation> | undefined }> {
  run.adopt(state);
  const observed = state && options.refresh !== false ? await refreshForPlan(run, state) : undefined;
  return { plan: planWith(run, state, observed), observed };
}

function planWith(
  run: ClusterRun,
  state: ClusterState | undefined,
  observed: ReadonlyMap<string, Observation> | undefined,
) {
  const { byId, ...plan } = computePlan({
    desired: desiredResources(run.resolved),
    state,
    builder: run.builder(state),
    can: { updatable: (k) => k.updatable(run), repair: (k) => k.canRepair(run) },
    observed,
  });
  const userDataSecrets =
    !usesSecretStore(run.resolved) && run.resolved.compute.roles.includes("nodes")
      ? [
          `Provider ${run.resolved.compute.provider.name} has no secret store: the K3s token and the datastore passwords go into the nodes' user data, readable by anyone who can read the instances' attributes. Prefer a provider with a secretStore.`,
        ]
      : [];
  // A provider that cannot own a firewall: the user opens the port matrix, which the plan spells out.
  const notes =
    run.resolved.compute.provider.capabilities.firewall === "external"
      ? run.builder().networkSpec().rules.map(describeFirewallRule)
      : [];
  return {
    ...plan,
    byId,
    warnings: [...run.resolved.warnings, ...userDataSecrets, ...plan.warnings],
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/** Creates, updates or recreates one resource; a node replacement goes create-before-destroy when it can. */
async function applyOne(
  run: ClusterRun,
  d: DesiredResource,
  change: PlannedChange,
  rolling: boolean,
  signal: AbortSignal,
) {
  await run.step(
    d.id,
    change.action,
    () => (rolling ? rollReplace(run, d, change, signal) : createOrUpdate(run, d, change, signal)),
    { message: change.reason, timed: true },
  );
}

async function createOrUpdate(
  run: ClusterRun,
  d: DesiredResource,
  change: PlannedChange,
  signal: AbortSignal,
) {
  const record = run.state?.resources[d.id];
  let generation = record?.generation ?? 0;
  if ((change.action === "replace" || change.drift === "missing") && record) {
    // Gone outside k3sinfra: nothing to delete, but the next generation's token must be used (a cloud may
    // answer a reused idempotency token with the terminated instance).
    const deleting = change.action === "replace" ? await journal(run, d.id, "delete", generation) : undefined;
    if (change.action === "replace")
      await run.call(
        d.id,
        d.kind,
        "delete",
        signal,
        (ctx) => kindOf(d.kind).handler(run, d.id).delete(record, ctx),
        generation,
      );
    generation += 1;
    await forget(run, d.id, deleting, intent(run, d.id, "create", generation));
  }
  // A create after a crash reuses the journaled generation, so the same idempotency token adopts.
  const current = run.state?.resources[d.id];
  const pending = run.state?.journal.find((i) => i.resource === d.id && i.action === "create");
  if (!current && pending) generation = pending.generation;
  const action = change.action === "update" ? "update" : "create";
  const intentId = await journal(run, d.id, action, generation);
  const handler = kindOf(d.kind).handler(run, d.id);
  const result = await run.call(
    d.id,
    d.kind,
    change.action,
    signal,
    (ctx) => (action === "update" && current ? handler.update(current, ctx) : handler.create(ctx)),
    generation,
  );
  await recordDone(run, d, generation, result, intentId);
}

/**
 * The tasks of an apply: each change after its graph edges and what its kind's `schedule` adds (server
 * replacements chained one at a time, create-before-destroy), then the retirement of what they left deposed.
 */
function tasksFor(
  run: ClusterRun,
  desired: readonly DesiredResource[],
  byId: ReadonlyMap<string, PlannedChange>,
): Task[] {
  const rollout = rolloutOf(run, byId);
  let previous: string | undefined;
  const tasks: Task[] = [];
  for (const d of desired) {
    const change = byId.get(d.id)!;
    if (change.action === "no-op") continue;
    const how = kindOf(d.kind).schedule?.(change, rollout) ?? {};
    const dependsOn = [...d.dependsOn];
    if (how.chained) {
      if (previous) dependsOn.push(previous);
      previous = d.id;
    }
    dependsOn.push(...(how.after ?? []));
    const apply = (signal: AbortSignal) => applyOne(run, d, change, how.rolling === true, signal);
    tasks.push({
      id: d.id,
      dependsOn,
      weight: expectedSeconds(d.kind, "create"),
      run: how.awaitServing
        ? async (signal) => {
            await apply(signal);
            await waitAllHealthy(run, signal);
          }
        : apply,
    });
  }
  return [...tasks, ...retirementTasks(run, rollout, byId, previous)];
}

/** Creates or converges the cluster, then records and returns the outputs. */
export async function upCluster(run: ClusterRun, options: PlanOptions): Promise<UpResult> {
  return run.locked("up", async () => {
    // Planned under the lock, before anything is written, so what the caller confirms is what runs.
    const stored = await run.readState();
    const { plan: shown, observed } = await planCluster(run, stored, options);
    const { byId: _shown, ...fullPlan } = shown;
    run.emit({ type: "plan", plan: fullPlan });
    for (const w of fullPlan.warnings) run.emit({ type: "warning", message: w });
    if (!fullPlan.empty && run.settings.confirm && (await run.settings.confirm(fullPlan)) === false) {
      throw new AbortedError("Cancelled at the confirmation; nothing was changed.");
    }
    const state = await run.loadForWrite();
    const { byId, ...plan } = planWith(run, state, observed);
    if (actionsOf(plan) !== actionsOf(fullPlan)) {
      throw new PlanRefusedError(
        "The plan changed while the cluster's secrets were generated; nothing was changed. Run up again to review it.",
      );
    }
    if (!plan.empty) await run.preflight("up");
    const desired = desiredResources(run.resolved);
    // Every ready resource starts at once, the longest remaining path first; the API-call slots
    // (`parallelism`) bound the calls in flight, so a resource that is only waiting holds none.
    const tasks = tasksFor(run, desired, byId);
    run.prioritize(remainingPaths(tasks));
    const outcomes = await runGraph(tasks, {
      signal: run.signal,
      onSkip: (id, because) =>
        run.emit({
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
      const removals = plan.changes.filter((c) => c.action === "delete" && run.state?.resources[c.resource]);
      const removalTasks = removals.map(
        (c): Task => ({
          id: c.resource,
          dependsOn: [],
          weight: expectedSeconds(c.kind, "delete"),
          run: (signal: AbortSignal) => removeResource(run, c.resource, signal),
        }),
      );
      run.prioritize(remainingPaths(removalTasks));
      const removalOutcomes = await runGraph(removalTasks, { signal: run.signal });
      for (const [resource, o] of removalOutcomes)
        if (o.status === "failed") failures.push({ resource, error: o.error });
    }
    if (run.signal.aborted)
      throw run.stopped("finished resources are recorded in state; run the same command again to resume.");
    if (failures.length > 0) throw new PartialFailureError(failures);
    // Done means serving: every server healthy behind the load balancer, unless the caller said not to wait.
    if (run.settings.wait !== false && run.resolved.compute.roles.includes("loadBalancer"))
      await waitReady(run, run.signal);
    const k3sVersion = run.resolved.k3sVersion;
    const outputs = buildOutputs({
      config: run.config,
      state: run.state!,
      k3sVersion,
      showSecrets: false,
      datastoreTls: run.resolved.compute.provider.datastoreCaUrl?.(run.config.region) !== undefined,
      kubeconfigFromStore: usesSecretStore(run.resolved),
    });
    const applied: AppliedConfig = { config: run.config, k3sVersion };
    await run.save(() => ({
      outputs: asRecord(outputs),
      applied: asRecord(applied),
    }));
    return { plan: fullPlan, outputs };
  });
}

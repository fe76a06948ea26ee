import type { PlannedChange } from "../api/types.js";
import { K3sinfraError, ProviderError } from "../errors.js";
import { LoadBalancerService, type LoadBalancerState } from "../resources/load-balancer.js";
import { NodeService, type NodeState } from "../resources/node.js";
import type { DeposedRecord } from "../state/types.js";
import { waitUntil } from "../wait.js";
import type { DesiredResource } from "./desired.js";
import { clear, journal, record as recordDone } from "./journal.js";
import { expectedSeconds, holds, kindOf } from "./kinds/index.js";
import type { Rollout } from "./kinds/types.js";
import { deposedId } from "./plan.js";
import type { ClusterRun } from "./run.js";
import type { Task } from "./scheduler.js";

/** How long a replacement server may take to pass the load balancer's health checks (K3s boot included). */
const HEALTHY_WAIT_MS = 20 * 60_000;

/**
 * Replaces one resource create-before-destroy: the new one is created under the next generation and
 * recorded while the old one is kept as deposed in the same state write. A server is then retired at once
 * (`retire` proves the new one healthy before the old one is deregistered and deleted); a load balancer is
 * retired by `retireLoadBalancers` once its successor has healthy targets and DNS points at it. A crash
 * anywhere leaves a state the next `up` finishes.
 */
export async function rollReplace(
  run: ClusterRun,
  d: DesiredResource,
  change: PlannedChange,
  signal: AbortSignal,
): Promise<void> {
  const record = run.state?.resources[d.id];
  if (!record) throw new ProviderError(`${d.id} is not in state; nothing to replace`);
  // A create interrupted earlier left its generation in the journal: reuse it, so its token adopts.
  const pending = run.state?.journal.find((i) => i.resource === d.id && i.action === "create");
  const generation = Math.max(record.generation + 1, pending?.generation ?? 0);
  const intentId = await journal(run, d.id, "create", generation);
  run.emit({
    type: "resource",
    resource: d.id,
    action: "replace",
    phase: "progress",
    message: "creating the replacement first; the current server keeps serving",
  });
  const created = await run.call(
    d.id,
    d.kind,
    change.action,
    signal,
    (ctx) => kindOf(d.kind).handler(run, d.id).create(ctx),
    generation,
  );
  const deposed: DeposedRecord = {
    resource: d.id,
    kind: record.kind,
    provider: record.provider,
    generation: record.generation,
    state: record.state,
    since: new Date().toISOString(),
  };
  await recordDone(run, d, generation, created, intentId, (s) => ({
    deposed: [...(s.deposed ?? []), deposed],
  }));
  if (kindOf(d.kind).retiredAtOnce) await retire(run, deposed, signal);
}

/** What this run replaces create-before-destroy, from the plan: the kinds' `schedule` reads it. */
export function rolloutOf(run: ClusterRun, byId: ReadonlyMap<string, PlannedChange>): Rollout {
  const lbAction = byId.get("load-balancer")?.action;
  const lb = run.live("load-balancer") !== undefined;
  return {
    serversCanRoll: lb && (lbAction === "no-op" || lbAction === "update"),
    balancerRolling: lbAction === "replace" && lb,
    retiring: (run.state?.deposed ?? []).filter((d) => d.kind === "nodes").map(deposedId),
  };
}

/**
 * The tasks that retire what replacements left deposed: each old server in the chain of server replacements
 * (after `previous`, its last link), and the old load balancers once DNS points at their successor.
 */
export function retirementTasks(
  run: ClusterRun,
  rollout: Rollout,
  byId: ReadonlyMap<string, PlannedChange>,
  previous: string | undefined,
): Task[] {
  const deposed = run.state?.deposed ?? [];
  const tasks: Task[] = [];
  let last = previous;
  for (const dep of deposed.filter((d) => d.kind === "nodes")) {
    const id = deposedId(dep);
    const dependsOn = [dep.resource, "load-balancer", "datastore", ...(last ? [last] : [])];
    last = id;
    tasks.push({
      id,
      dependsOn,
      weight: expectedSeconds("nodes", "delete"),
      run: (signal) =>
        run.step(id, "delete", () => retire(run, dep, signal), {
          message: byId.get(id)?.reason,
          failed: false,
        }),
    });
  }
  if (rollout.balancerRolling || deposed.some((d) => d.kind === "loadBalancer"))
    tasks.push({
      id: "load-balancer.old",
      dependsOn: ["load-balancer", "lb-targets", "dns-record"],
      weight: expectedSeconds("loadBalancer", "delete"),
      run: (signal) => retireLoadBalancers(run, signal),
    });
  return tasks;
}

/**
 * Waits until the (new) load balancer reports every current server healthy, before DNS is switched to it.
 * A provider that cannot tell health is trusted once the targets are registered.
 */
export async function waitAllHealthy(run: ClusterRun, signal: AbortSignal): Promise<void> {
  const lb = run.liveOf("loadBalancer", "load-balancer");
  if (!lb) return;
  const svc = run.container.resolve(LoadBalancerService);
  const want = run.nodeStates().map((n) => n.id);
  await waitUntil(
    async () => {
      const targets = await run.call(
        "lb-targets",
        "targets",
        "read",
        signal,
        (ctx) => svc.getTargets(lb, ctx),
        0,
      );
      if (!targets) return { state: "FAILURE", reason: `the load balancer ${lb.name} is gone` };
      const missing =
        targets.healthy === undefined ? [] : want.filter((id) => !targets.healthy!.includes(id));
      return missing.length === 0
        ? { state: "SUCCESS", value: undefined }
        : { state: "RETRY", reason: `not healthy yet behind ${lb.name}: ${missing.join(", ")}` };
    },
    {
      description: `every server to be healthy behind the new load balancer ${lb.name}`,
      maxWaitMs: run.settings.timeouts.targets ?? HEALTHY_WAIT_MS,
      signal,
      ...run.settings.poll,
    },
  );
}

/** Deletes every deposed load balancer: run once its successor serves and DNS points at the successor. */
export async function retireLoadBalancers(run: ClusterRun, signal: AbortSignal): Promise<void> {
  for (const old of (run.state?.deposed ?? []).filter((d) => d.kind === "loadBalancer")) {
    run.emit({
      type: "resource",
      resource: deposedId(old),
      action: "delete",
      phase: "progress",
      message: `deleting ${old.state.id}: DNS points at its successor`,
    });
    await run.call(
      old.resource,
      "loadBalancer",
      "delete",
      signal,
      (ctx) => kindOf("loadBalancer").handler(run, old.resource).delete(old, ctx),
      old.generation,
    );
    await run.save((s) => ({ deposed: (s.deposed ?? []).filter((x) => deposedId(x) !== deposedId(old)) }));
  }
}

/** Registers the successor, waits for it to be healthy, then deregisters and deletes the deposed server. */
export async function retire(run: ClusterRun, deposed: DeposedRecord, signal: AbortSignal): Promise<void> {
  const id = deposed.resource;
  const successor = run.liveOf("nodes", id);
  if (!successor)
    throw new ProviderError(`${id} has no current server to take over from ${deposed.state.id}`);
  const report = (message: string) =>
    run.emit({ type: "resource", resource: id, action: "replace", phase: "progress", message });
  await publishTo(run, successor, signal);
  const lb = run.liveOf("loadBalancer", "load-balancer");
  if (lb) {
    const svc = run.container.resolve(LoadBalancerService);
    const serving = () => [...run.nodeStates(), ...run.deposedNodes()];
    report(`registering ${successor.id} next to ${deposed.state.id}`);
    await run.call(id, "targets", "replace", signal, (ctx) => svc.setTargets(lb, serving(), ctx), 0);
    await waitHealthy(run, lb, successor, deposed, signal, report);
    report(`deregistering ${deposed.state.id}`);
    const others = (run.state?.deposed ?? []).filter((x) => deposedId(x) !== deposedId(deposed));
    await run.call(
      id,
      "targets",
      "replace",
      signal,
      (ctx) =>
        svc.setTargets(
          lb,
          [...run.nodeStates(), ...others.filter((x) => holds("nodes", x)).map((x) => x.state)],
          ctx,
        ),
      0,
    );
  }
  report(`deleting ${deposed.state.id}`);
  // Only this generation's delete is superseded: the successor's intents stay.
  const intentId = await journal(
    run,
    id,
    "delete",
    deposed.generation,
    (i) => i.resource === id && i.action === "delete" && i.generation === deposed.generation,
  );
  await run.call(
    id,
    "nodes",
    "delete",
    signal,
    (ctx) => kindOf("nodes").handler(run, id).delete(deposed, ctx),
    deposed.generation,
  );
  await clear(run, intentId, (s) => ({
    deposed: (s.deposed ?? []).filter((x) => deposedId(x) !== deposedId(deposed)),
  }));
}

/** Gives a new server the late values (datastore endpoint, first server) the others already have. */
async function publishTo(run: ClusterRun, node: NodeState, signal: AbortSignal): Promise<void> {
  const nodes = run.container.resolve(NodeService);
  const datastore = run.liveOf("datastore", "datastore");
  const first = run.nodeStates()[0];
  if (!nodes.publish || !datastore || !first) return;
  const values = run.builder().bootstrapValues(datastore, first);
  await run.call(node.id, "nodes", "replace", signal, (ctx) => nodes.publish!(node, values, ctx), 0);
}

async function waitHealthy(
  run: ClusterRun,
  lb: LoadBalancerState,
  successor: NodeState,
  deposed: DeposedRecord,
  signal: AbortSignal,
  report: (m: string) => void,
): Promise<void> {
  const svc = run.container.resolve(LoadBalancerService);
  const limit = run.settings.timeouts.targets ?? HEALTHY_WAIT_MS;
  report(`waiting for ${successor.id} to pass the load balancer's health checks`);
  try {
    await waitUntil(
      async () => {
        const targets = await run.call(
          deposed.resource,
          "targets",
          "read",
          signal,
          (ctx) => svc.getTargets(lb, ctx),
          0,
        );
        if (!targets) return { state: "FAILURE", reason: `the load balancer ${lb.name} is gone` };
        // A provider that cannot tell health is trusted once the node is registered.
        if (targets.healthy === undefined) return { state: "SUCCESS", value: undefined };
        return targets.healthy.includes(successor.id)
          ? { state: "SUCCESS", value: undefined }
          : { state: "RETRY", reason: `${successor.id} is not healthy yet` };
      },
      {
        description: `${successor.id} to be healthy behind ${lb.name}`,
        maxWaitMs: limit,
        signal,
        ...run.settings.poll,
      },
    );
  } catch (error) {
    if (signal.aborted) throw error;
    throw new K3sinfraError(
      "ProviderError",
      `${deposed.resource}: the replacement server ${successor.id} did not pass the load balancer's health checks (${error instanceof Error ? error.message : String(error)}). The old server ${deposed.state.id} keeps serving and stays registered. Check the new server's boot (cloud-init output, \`journalctl -u k3s\`), then run up again to finish the replacement.`,
      { cause: error },
    );
  }
}

import { K3sinfraError } from "../errors.js";
import { LoadBalancerService } from "../resources/load-balancer.js";
import { NodeService, type NodeState } from "../resources/node.js";
import { waitUntil } from "../wait.js";
import type { ClusterRun } from "./run.js";

/** How long the servers get to boot, install K3s and pass the LB's checks (Rancher's images included). */
const READY_WAIT_MS = 30 * 60_000;

/** One stage line the boot script writes to the console: `k3sinfra-bootstrap: stage=<name> <event>[: detail]`. */
const STAGE_LINE = /k3sinfra-bootstrap: stage=([a-z0-9-]+)(?: (start|waiting|ok|failed)(?:: (.*))?)?/g;

/**
 * The last stage a node's boot log shows, and the failure it reported there, if any. A stage started again
 * after it failed (systemd restarts the unit) is still that failure, marked `retrying`: what a stuck node is
 * stuck on, whichever moment of its retry cycle the log is read at.
 */
export function lastStage(
  log: string | undefined,
): { stage: string; failure?: string; retrying?: boolean } | undefined {
  let last: { stage: string; failure?: string; event?: string } | undefined;
  const failed = new Map<string, string>();
  for (const m of (log ?? "").matchAll(STAGE_LINE)) {
    const [, stage = "", event, detail] = m;
    const failure = event === "failed" ? (detail ?? "").trim() : undefined;
    if (failure !== undefined) failed.set(stage, failure);
    else if (event === "ok") failed.delete(stage);
    last = { stage, ...(failure !== undefined ? { failure } : {}), ...(event ? { event } : {}) };
  }
  if (!last) return undefined;
  if (last.failure !== undefined) return { stage: last.stage, failure: last.failure };
  const before = last.event !== "ok" ? failed.get(last.stage) : undefined;
  return before !== undefined
    ? { stage: last.stage, failure: before, retrying: true }
    : { stage: last.stage };
}

/**
 * `up` is done when every server serves: healthy behind the load balancer on every target group (which
 * needs K3s up and Traefik answering on it). Progress is reported per node; on timeout the error names each
 * node that is not healthy, the boot stage its console shows, and the command that prints its log.
 */
export async function waitReady(run: ClusterRun, signal: AbortSignal): Promise<void> {
  const lb = run.liveOf("loadBalancer", "load-balancer");
  if (!lb) return;
  const svc = run.container.resolve(LoadBalancerService);
  const nodes = run.nodeStates();
  const limit = run.settings.timeouts.nodes ?? READY_WAIT_MS;
  const started = Date.now();
  const ids = (n: NodeState) => `ready:${resourceOf(run, n)}`;
  for (const n of nodes) run.emit({ type: "resource", resource: ids(n), action: "read", phase: "start" });
  const done = new Set<string>();
  let pending: NodeState[] = nodes;
  try {
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
        // A provider that cannot tell health is trusted once the servers are registered.
        const healthy = new Set(targets.healthy ?? targets.nodeIds);
        for (const n of nodes)
          if (healthy.has(n.id) && !done.has(n.id)) {
            done.add(n.id);
            run.emit({
              type: "resource",
              resource: ids(n),
              action: "read",
              phase: "done",
              elapsedMs: Date.now() - started,
            });
          }
        pending = nodes.filter((n) => !done.has(n.id));
        if (pending.length === 0) return { state: "SUCCESS", value: undefined };
        for (const n of pending)
          run.emit({
            type: "resource",
            resource: ids(n),
            action: "read",
            phase: "progress",
            message: "waiting for K3s and Traefik to answer the load balancer's health checks",
          });
        return { state: "RETRY", reason: `${pending.length} of ${nodes.length} servers not healthy yet` };
      },
      {
        description: `every server to be healthy behind ${lb.name}`,
        maxWaitMs: limit,
        signal,
        ...run.settings.poll,
      },
    );
  } catch (error) {
    if (signal.aborted) throw error;
    const lines = await Promise.all(pending.map((n) => whereStuck(run, n, signal)));
    for (const n of pending)
      run.emit({
        type: "resource",
        resource: ids(n),
        action: "read",
        phase: "failed",
        message: "not healthy",
      });
    throw new K3sinfraError(
      "Timeout",
      `${pending.length} of ${nodes.length} servers did not become healthy behind the load balancer within ${limit >= 120_000 ? `${Math.round(limit / 60_000)} min` : `${Math.round(limit / 1000)} s`}:\n${lines.join("\n")}\nThe infrastructure is in place; fix the cause and run up again (it only waits), or pass --no-wait.`,
      { cause: error },
    );
  }
}

const resourceOf = (run: ClusterRun, node: NodeState): string =>
  Object.values(run.state?.resources ?? {}).find((r) => r.state.id === node.id)?.resource ?? node.id;

/** `  - node-1 (i-0abc): stage datastore failed: …; its log: <command>`. */
async function whereStuck(run: ClusterRun, node: NodeState, signal: AbortSignal): Promise<string> {
  const svc = run.container.resolve(NodeService);
  const resource = resourceOf(run, node);
  let stage = "its boot log shows no stage yet";
  try {
    const log = svc.bootLog
      ? await run.call(resource, "nodes", "read", signal, (ctx) => svc.bootLog!(node, ctx), 0)
      : undefined;
    const last = lastStage(log);
    if (last)
      stage =
        last.failure !== undefined
          ? `stage ${last.stage} failed: ${last.failure}${last.retrying ? " (systemd is running it again)" : ""}`
          : `last stage ${last.stage}`;
    else if (!svc.bootLog) stage = "the provider cannot show its boot log";
  } catch (error) {
    stage = `its boot log could not be read (${error instanceof Error ? error.message : String(error)})`;
  }
  const command = run.resolved.compute.provider.bootLogCommand?.({ id: node.id }, run.config.region);
  return `  - ${resource} (${node.id}): ${stage}${command ? `; its log: ${command}` : ""}`;
}

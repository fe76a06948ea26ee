import { LoadBalancerService, type TargetsState } from "../../resources/load-balancer.js";
import { AFTER, replacedReason, str } from "./shared.js";
import type { KindDescription } from "./types.js";

/** The servers registered with the load balancer: no cloud object of its own, derived from the others. */
export const targets: KindDescription<TargetsState> = {
  role: "compute",
  dependsOn: ["loadBalancer", "nodes"],
  ids: () => ["lb-targets"],
  timeoutMs: 10 * 60_000,
  // Registration returns at once; health follows after 3 checks 10 s apart, which `up` waits for at the end.
  expectedSeconds: { create: 2, delete: 2 },
  deleteRank: 0,
  label: "the load balancer's targets",
  sweeps: false,
  derived: true,
  updatable: () => "all",
  canRepair: () => true,
  inputs: (_builder, d, lookup) => {
    const nodes = d.dependsOn
      .filter((x) => x.startsWith("node-"))
      .map((x) => lookup("nodes", x)?.id ?? AFTER);
    return { loadBalancer: str(lookup("loadBalancer", "load-balancer")?.id ?? AFTER), nodes: str(nodes) };
  },
  handler: (run) => {
    const svc = run.container.resolve(LoadBalancerService);
    const lb = () => run.need("loadBalancer", "load-balancer");
    // Servers kept for a replacement not yet healthy stay registered: they are still serving.
    const set = (ctx: Parameters<typeof svc.setTargets>[2]) =>
      svc.setTargets(lb(), [...run.nodeStates(), ...run.deposedNodes()], ctx);
    return {
      create: set,
      update: (_s, ctx) => set(ctx),
      delete: async (_s, ctx) => {
        const current = run.liveOf("loadBalancer", "load-balancer");
        if (current) await svc.setTargets(current, [], ctx);
      },
      read: async (_s, ctx) => {
        const current = run.liveOf("loadBalancer", "load-balancer");
        return current ? svc.getTargets(current, ctx) : undefined;
      },
      find: async () => [],
    };
  },
  // Settles once every old server is retired; behind a new load balancer, proves every server healthy.
  schedule: (_change, rollout) => ({ after: rollout.retiring, awaitServing: rollout.balancerRolling }),
  deposedReason: replacedReason,
};

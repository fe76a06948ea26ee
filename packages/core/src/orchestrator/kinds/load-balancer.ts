import { LoadBalancerService, type LoadBalancerState } from "../../resources/load-balancer.js";
import { AFTER, replacedReason, serviceHandler, str } from "./shared.js";
import type { KindDescription } from "./types.js";

/** The L4 or L7 load balancer in front of Rancher; replaced create-before-destroy (`rolling.ts`). */
export const loadBalancer: KindDescription<LoadBalancerState> = {
  role: "compute",
  dependsOn: ["network"],
  ids: () => ["load-balancer"],
  timeoutMs: 20 * 60_000,
  // A managed load balancer stays provisioning for 2–3 min; deleting it returns at once
  // (docs/architecture.md, "Expected durations").
  expectedSeconds: { create: 150, delete: 5 },
  deleteRank: 1,
  label: "the load balancer",
  sweeps: true,
  updatable: (run) => run.container.resolve(LoadBalancerService).updatable,
  canRepair: (run) => run.container.resolve(LoadBalancerService).update !== undefined,
  inputs: (builder, _d, lookup) => {
    const c = builder.config;
    const lb = c.loadBalancer;
    return {
      mode: lb.mode,
      zones: str(c.zones),
      certificate: lb.certificate ?? "",
      idleTimeoutSeconds: String(lb.idleTimeoutSeconds),
      crossZone: "true",
      network: str(lookup("network", "network")?.id ?? AFTER),
    };
  },
  handler: (run) => {
    const builder = run.builder();
    return serviceHandler(run.container.resolve(LoadBalancerService), () =>
      builder.loadBalancerSpec(run.need("network", "network")),
    );
  },
  // Replaced create-before-destroy too: the new one gets the targets, proves them healthy, DNS moves to it,
  // and only then is the old one deleted.
  schedule: (_change, rollout) => ({ rolling: rollout.balancerRolling }),
  deposedReason: replacedReason,
};

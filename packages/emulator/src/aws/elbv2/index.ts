/**
 * Elastic Load Balancing v2 as the AWS cloud wires it: the service, its operations assembled from one module
 * per responsibility, its inventory, and the lookup Route 53 asks of it (alias targets).
 */
import type { InventoryItem } from "../../types.js";
import type { QueryOp } from "../kernel/call.js";
import type { LoadBalancerLookup } from "../kernel/lookups.js";
import { listenerOps } from "./listeners.js";
import { loadBalancerOps } from "./load-balancers.js";
import { canonicalHostedZoneId } from "./model.js";
import { health } from "./output.js";
import type { Elbv2Service } from "./service.js";
import { tagOps } from "./tags.js";
import { targetGroupOps } from "./target-groups.js";
import { drained } from "./target-health.js";

export { Elbv2Service } from "./service.js";
export { type HealthMode, setHealthOverride } from "./target-health.js";

export const elbv2Ops = (svc: Elbv2Service): Record<string, QueryOp> => ({
  ...loadBalancerOps(svc),
  ...targetGroupOps(svc),
  ...listenerOps(svc),
  ...tagOps(svc),
});

/** Route 53's question: the canonical hosted zone of the load balancer with this DNS name. */
export const loadBalancerLookup = (svc: Elbv2Service): LoadBalancerLookup => ({
  canonicalZoneOf(dnsName) {
    for (const [regionName, region] of Object.entries(svc.regions())) {
      for (const lb of Object.values(region.lbs))
        if (lb.dnsName === dnsName) return canonicalHostedZoneId(regionName, lb.type);
    }
    return undefined;
  },
});

/** Load balancers, target groups, each target registration (its health as the LB reports it), listeners. */
export function elbv2Inventory(svc: Elbv2Service, now: number): InventoryItem[] {
  const out: InventoryItem[] = [];
  for (const [region, r] of Object.entries(svc.regions())) {
    const base = { cloud: "aws", service: "elbv2", region };
    for (const lb of Object.values(r.lbs))
      out.push({
        ...base,
        type: "load-balancer",
        id: lb.arn,
        name: lb.name,
        state: svc.lbState(lb, now),
        tags: { ...lb.tags },
      });
    for (const tg of Object.values(r.tgs))
      out.push({
        ...base,
        type: "target-group",
        id: tg.arn,
        name: tg.name,
        state: "active",
        tags: { ...tg.tags },
      });
    // One item per registration (target group × instance), its state the health the LB reports.
    for (const tg of Object.values(r.tgs))
      for (const t of tg.targets) {
        if (drained(t, tg.attributes, now, svc.scale)) continue;
        out.push({
          ...base,
          type: "target",
          id: t.id,
          name: tg.name,
          state: health(svc, region, tg, t, t.id, now).State,
          tags: { ...tg.tags },
        });
      }
    for (const l of Object.values(r.listeners))
      out.push({
        ...base,
        type: "listener",
        id: l.arn,
        name: `${l.protocol}:${l.port}`,
        state: "active",
        tags: { ...l.tags },
      });
  }
  return out;
}

/**
 * Elastic Load Balancing v2 (awsQuery, API 2015-12-01): the service's state per region and the lookups its
 * operations share (load-balancers, target-groups, listeners, tags; assembled in index.ts).
 * API reference: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/Welcome.html
 */

import type { CloudContext } from "../../cloud.js";
import { phase, type Tags } from "../kernel/common.js";
import type { AwsLookups, ServiceKernel } from "../kernel/lookups.js";
import { int, str, type Tree } from "../kernel/query.js";
import {
  ELB_DURATIONS,
  type ElbRegion,
  type Listener,
  type LoadBalancer,
  lbNotFound,
  listenerNotFound,
  type TargetGroup,
  tgNotFound,
  v,
} from "./model.js";
import { drained } from "./target-health.js";

export class Elbv2Service {
  constructor(private readonly k: ServiceKernel<Record<string, ElbRegion>>) {}

  get ctx(): CloudContext {
    return this.k.ctx;
  }

  get lookups(): AwsLookups {
    return this.k.lookups;
  }

  /** Every region's state as stored. */
  regions(): Record<string, ElbRegion> {
    return this.k.state();
  }

  get scale(): number {
    return this.ctx.timeScale;
  }

  region(region: string): ElbRegion {
    const all = this.k.state();
    let r = all[region];
    if (!r) {
      r = { lbs: {}, tgs: {}, listeners: {} };
      all[region] = r;
    }
    return r;
  }

  lbState(lb: LoadBalancer, now: number): string {
    return phase(now, lb.createdAt, this.scale, [["provisioning", ELB_DURATIONS.provisioning]], "active");
  }

  subnetInUse(region: string, subnetId: string, _now: number): boolean {
    const r = this.k.state()[region];
    return !!r && Object.values(r.lbs).some((lb) => lb.subnets.some((s) => s.subnetId === subnetId));
  }

  groupInUse(region: string, groupId: string, _now: number): boolean {
    const r = this.k.state()[region];
    return !!r && Object.values(r.lbs).some((lb) => lb.securityGroups.includes(groupId));
  }

  getLb(region: string, arn: string): LoadBalancer {
    const lb = this.region(region).lbs[arn];
    if (!lb) throw lbNotFound();
    return lb;
  }

  getTg(region: string, arn: string): TargetGroup {
    const tg = this.region(region).tgs[arn];
    if (!tg) throw tgNotFound();
    return tg;
  }

  tgLoadBalancers(region: string, tgArn: string): string[] {
    const r = this.region(region);
    return [
      ...new Set(
        Object.values(r.listeners)
          .filter((l) => l.actions.some((a) => a.TargetGroupArn === tgArn))
          .map((l) => l.lbArn),
      ),
    ];
  }

  /** Drop targets whose deregistration delay has passed. */
  sweepTargets(tg: TargetGroup, now: number): void {
    tg.targets = tg.targets.filter((t) => !drained(t, tg.attributes, now, this.scale));
  }

  listenerAttributes(l: Listener): Record<string, string> {
    const defaults: Record<string, string> =
      l.protocol === "TCP" ? { "tcp.idle_timeout.seconds": "350" } : {};
    return { ...defaults, ...(l.attributes ?? {}) };
  }

  tagsOf(region: string, arn: string): Tags {
    const r = this.region(region);
    if (arn.includes(":loadbalancer/")) return this.getLb(region, arn).tags;
    if (arn.includes(":targetgroup/")) return this.getTg(region, arn).tags;
    if (arn.includes(":listener/")) {
      const l = r.listeners[arn];
      if (!l) throw listenerNotFound();
      return l.tags;
    }
    throw v(`'${arn}' is not a valid load balancer, target group or listener ARN`);
  }

  /** ELBv2 Marker paging (PageSize 1-400). */
  page<T>(items: T[], input: Tree): { page: T[]; marker?: string } {
    const size = int(input, "PageSize") ?? 400;
    const m = str(input, "Marker");
    const start = m ? Number(Buffer.from(m, "base64url").toString()) || 0 : 0;
    const page = items.slice(start, start + size);
    return start + size < items.length
      ? { page, marker: Buffer.from(String(start + size)).toString("base64url") }
      : { page };
  }
}

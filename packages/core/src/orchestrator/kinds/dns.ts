import { DnsRecordService, type DnsRecordState } from "../../resources/dns-record.js";
import { AFTER, replacedReason, str } from "./shared.js";
import type { KindDescription } from "./types.js";

/** The Rancher hostname's record, pointing at the load balancer; managed by the DNS provider. */
export const dns: KindDescription<DnsRecordState> = {
  role: "dns",
  dependsOn: ["loadBalancer"],
  ids: () => ["dns-record"],
  timeoutMs: 15 * 60_000,
  // A record change is pending until every authoritative name server has it, generally within a minute
  // (docs/architecture.md, "Expected durations").
  expectedSeconds: { create: 60, delete: 5 },
  deleteRank: 0,
  label: "the DNS record",
  sweeps: true,
  derived: true,
  updatable: () => "all",
  canRepair: () => true,
  inputs: (builder, _d, lookup) => {
    const c = builder.config;
    const lb = lookup("loadBalancer", "load-balancer");
    return {
      hostname: c.rancher.hostname,
      zone: c.dns.zone,
      ttl: String(c.dns.ttl),
      proxied: String(c.dns.proxied),
      target: lb ? str(builder.dnsTarget(lb)) : AFTER,
    };
  },
  handler: (run) => {
    const svc = run.container.resolve(DnsRecordService);
    const builder = run.builder();
    const spec = () => builder.dnsSpec(run.need("loadBalancer", "load-balancer"));
    return {
      create: (ctx) => svc.create(spec(), ctx),
      // DNS creates are upserts, so a service without `update` converges through `create`.
      update: (s, ctx) => (svc.update ? svc.update(s, spec(), ctx) : svc.create(spec(), ctx)),
      delete: (s, ctx) => svc.delete(s, ctx),
      read: (s, ctx) => svc.read(s, ctx),
      find: (t, ctx) => svc.findByTags(t, ctx),
    };
  },
  // Moves to a new load balancer only once its targets are healthy.
  schedule: (_change, rollout) => ({ after: rollout.balancerRolling ? ["lb-targets"] : [] }),
  deposedReason: replacedReason,
};

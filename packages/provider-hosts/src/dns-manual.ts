import type { DnsRecordService, DnsRecordSpec, DnsRecordState, ResourceContext } from "@k3sinfra/core";

/**
 * DNS for hosts without a DNS provider's API: `create` says which A record to create (and `update` which to
 * change, `delete` which to remove) on the run's progress, and returns the record as asked. k3sinfra cannot
 * see it, so `read` returns what was asked and `findByTags` finds nothing; `k3sinfra verify` resolves the
 * Rancher hostname and checks that it reaches the load balancer. Any DNS provider (`dns.provider:
 * cloudflare`, `aws`) writes the record itself instead.
 */
export class ManualDnsService implements DnsRecordService {
  readonly updatable = ["target", "ttl"] as const;

  private state(spec: DnsRecordSpec): DnsRecordState {
    const values =
      spec.target.type === "A"
        ? [...spec.target.addresses]
        : spec.target.type === "CNAME"
          ? [spec.target.hostname]
          : [spec.target.dnsName];
    return {
      id: `manual:${spec.hostname}`,
      zoneId: spec.zone,
      hostname: spec.hostname,
      type: spec.target.type === "ALIAS" ? "A" : spec.target.type,
      values,
      ttl: spec.ttl,
    };
  }

  async create(spec: DnsRecordSpec, ctx: ResourceContext): Promise<DnsRecordState> {
    const s = this.state(spec);
    ctx.report(
      `create this DNS record in ${spec.zone}: ${s.hostname}. ${s.ttl} IN ${s.type} ${s.values.join(" ")} (k3sinfra verify checks it)`,
    );
    return s;
  }

  async read(state: DnsRecordState): Promise<DnsRecordState | undefined> {
    return state;
  }

  async update(_state: DnsRecordState, spec: DnsRecordSpec, ctx: ResourceContext): Promise<DnsRecordState> {
    return this.create(spec, ctx);
  }

  async delete(state: DnsRecordState, ctx: ResourceContext): Promise<void> {
    ctx.report(`remove the DNS record ${state.hostname}. ${state.type} ${state.values.join(" ")}`);
  }

  async findByTags(): Promise<DnsRecordState[]> {
    return [];
  }

  async native(): Promise<unknown> {
    return undefined;
  }
}

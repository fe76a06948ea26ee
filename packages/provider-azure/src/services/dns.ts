import type { RecordSet } from "@azure/arm-dns";
import {
  type DnsRecordService,
  type DnsRecordSpec,
  type DnsRecordState,
  InvalidConfigError,
  type ResourceContext,
  type Tags,
} from "@k3sinfra/core";
import { azureCall, collect, orMissing } from "../call.js";
import type { AzureClients } from "../clients.js";
import { assertOwned, hasTags, parseId } from "../naming.js";
import type { AzureOptions } from "../options.js";

/**
 * The Rancher hostname as an A record set in an Azure DNS zone. Record sets carry `metadata`, not tags: the
 * ownership tags go there. https://learn.microsoft.com/en-us/rest/api/dns/record-sets/create-or-update
 */
export class AzureDnsRecordService implements DnsRecordService {
  readonly updatable = ["target", "ttl"] as const;
  #zone: Promise<{ resourceGroup: string; id: string }> | undefined;

  constructor(
    private readonly clients: AzureClients,
    private readonly options: AzureOptions,
    private readonly zone: string,
  ) {}

  async native(): Promise<unknown> {
    return this.clients.dns();
  }

  /** The zone's resource group: the given one, else the one zone of that name in the subscription. */
  private findZone(ctx: ResourceContext): Promise<{ resourceGroup: string; id: string }> {
    this.#zone ??= (async () => {
      const dns = await this.clients.dns();
      if (this.options.dnsResourceGroup) {
        const z = await azureCall(`DNS Zones_Get (${this.zone})`, ctx, (o) =>
          dns.zones.get(this.options.dnsResourceGroup!, this.zone, o),
        );
        return { resourceGroup: this.options.dnsResourceGroup, id: z.id ?? "" };
      }
      const zones = (await azureCall(`DNS Zones_List`, ctx, () => collect(dns.zones.list()))).filter(
        (z) => z.name?.toLowerCase() === this.zone.toLowerCase(),
      );
      if (zones.length !== 1)
        throw new InvalidConfigError([
          {
            path: "options.azure.dnsResourceGroup",
            message:
              zones.length === 0
                ? `no Azure DNS zone '${this.zone}' in the subscription: create it, or use another DNS provider`
                : `${zones.length} zones named '${this.zone}': name the resource group of the one to use`,
          },
        ]);
      return { resourceGroup: parseId(zones[0]!.id ?? "").resourceGroup, id: zones[0]!.id ?? "" };
    })();
    this.#zone.catch(() => {
      this.#zone = undefined;
    });
    return this.#zone;
  }

  private relative(hostname: string): string {
    const h = hostname.replace(/\.$/, "").toLowerCase();
    const z = this.zone.toLowerCase();
    if (h === z) return "@";
    if (!h.endsWith(`.${z}`))
      throw new InvalidConfigError([
        { path: "rancher.hostname", message: `must be in the zone ${this.zone}` },
      ]);
    return h.slice(0, -(z.length + 1));
  }

  async create(spec: DnsRecordSpec, ctx: ResourceContext): Promise<DnsRecordState> {
    if (spec.target.type !== "A")
      throw new InvalidConfigError([
        { path: "dns", message: "Azure DNS records here are A records (the load balancer has a fixed IP)" },
      ]);
    const zone = await this.findZone(ctx);
    const name = this.relative(spec.hostname);
    const dns = await this.clients.dns();
    const existing = await orMissing(
      azureCall(`DNS RecordSets_Get (${name})`, ctx, (o) =>
        dns.recordSets.get(zone.resourceGroup, this.zone, name, "A", o),
      ),
    );
    if (existing) assertOwned(existing.metadata, ctx, `DNS record ${spec.hostname}`);
    // A PUT replaces the record set: idempotent, and converges the addresses.
    const set = await azureCall(`DNS RecordSets_CreateOrUpdate (${name})`, ctx, (o) =>
      dns.recordSets.createOrUpdate(
        zone.resourceGroup,
        this.zone,
        name,
        "A",
        {
          metadata: { ...ctx.tags },
          ttl: spec.ttl,
          aRecords:
            spec.target.type === "A" ? spec.target.addresses.map((ipv4Address) => ({ ipv4Address })) : [],
        },
        o,
      ),
    );
    return this.state(set, zone.id, spec.hostname);
  }

  async read(state: DnsRecordState, ctx: ResourceContext): Promise<DnsRecordState | undefined> {
    const zone = await this.findZone(ctx);
    const dns = await this.clients.dns();
    const name = this.relative(state.hostname);
    const set = await orMissing(
      azureCall(`DNS RecordSets_Get (${name})`, ctx, (o) =>
        dns.recordSets.get(zone.resourceGroup, this.zone, name, "A", o),
      ),
    );
    return set ? this.state(set, zone.id, state.hostname) : undefined;
  }

  async update(state: DnsRecordState, spec: DnsRecordSpec, ctx: ResourceContext): Promise<DnsRecordState> {
    return this.create({ ...spec, hostname: state.hostname }, ctx);
  }

  async delete(state: DnsRecordState, ctx: ResourceContext): Promise<void> {
    const zone = await this.findZone(ctx);
    const dns = await this.clients.dns();
    const name = this.relative(state.hostname);
    const set = await orMissing(
      azureCall(`DNS RecordSets_Get (${name})`, ctx, (o) =>
        dns.recordSets.get(zone.resourceGroup, this.zone, name, "A", o),
      ),
    );
    if (!set) return;
    assertOwned(set.metadata, ctx, `DNS record ${state.hostname}`);
    await azureCall(`DNS RecordSets_Delete (${name})`, ctx, (o) =>
      dns.recordSets.delete(zone.resourceGroup, this.zone, name, "A", o),
    );
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<DnsRecordState[]> {
    const zone = await this.findZone(ctx);
    const dns = await this.clients.dns();
    const sets = await azureCall(`DNS RecordSets_ListByType (${this.zone})`, ctx, () =>
      collect(dns.recordSets.listByType(zone.resourceGroup, this.zone, "A")),
    );
    return sets
      .filter((s) => hasTags(s.metadata, tags))
      .map((s) => this.state(s, zone.id, (s.fqdn ?? "").replace(/\.$/, "")));
  }

  private state(set: RecordSet, zoneId: string, hostname: string): DnsRecordState {
    return {
      id: set.id ?? "",
      zoneId,
      hostname: hostname.replace(/\.$/, ""),
      type: "A",
      values: (set.aRecords ?? []).map((a) => a.ipv4Address ?? ""),
      ttl: set.ttl ?? 0,
    };
  }
}

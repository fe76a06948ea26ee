import type { Zone } from "@google-cloud/dns";
import {
  type DnsRecordService,
  type DnsRecordSpec,
  type DnsRecordState,
  InvalidConfigError,
  ProviderError,
  type ResourceContext,
  type Tags,
  waitUntil,
} from "@k3sinfra/core";
import { gcpCall } from "../call.js";
import type { GcpClients } from "../clients.js";
import { httpStatusOf } from "../errors.js";
import { hasLabels, toLabels } from "../labels.js";
import type { GcpOptions } from "../options.js";

/** The ownership record beside the Rancher record: record sets have no labels. */
export const HERITAGE_PREFIX = "_k3sinfra.";

interface RRSet {
  name: string;
  type: string;
  ttl: number;
  rrdatas: string[];
}

const fqdn = (name: string) => `${name.replace(/\.$/, "").toLowerCase()}.`;
const undot = (name: string) => name.replace(/\.$/, "");
/** The heritage TXT value: the ownership labels, quoted as TXT data is. */
const heritage = (tags: Tags) =>
  `"heritage=k3sinfra ${Object.entries(toLabels(tags))
    .map(([k, v]) => `${k}=${v}`)
    .join(" ")}"`;
const heritageLabels = (txt: string): Record<string, string> =>
  Object.fromEntries(
    txt
      .replace(/^"|"$/g, "")
      .split(" ")
      .filter((p) => p.includes("="))
      .map((p) => p.split("=") as [string, string]),
  );

/**
 * The Rancher A record in a Cloud DNS managed zone, with a `_k3sinfra.<host>` TXT record naming its owner
 * (as external-dns does: https://kubernetes-sigs.github.io/external-dns/latest/docs/registry/txt/). Changes are
 * atomic (one change replaces the exact old record set) and awaited until `done`.
 */
export class GcpDnsRecordService implements DnsRecordService {
  readonly updatable = ["target", "ttl"] as const satisfies readonly (keyof DnsRecordSpec)[];

  constructor(
    private readonly clients: GcpClients,
    private readonly options: GcpOptions,
    private readonly zoneName: string,
  ) {}

  native(): Promise<unknown> {
    return this.clients.dns();
  }

  /** The managed zone: `options.gcp.dnsZone`, else the public zone whose DNS name is the config's zone. */
  async #zone(zone: string, ctx: ResourceContext): Promise<Zone> {
    const dns = await this.clients.dns();
    if (this.options.dnsZone) return dns.zone(this.options.dnsZone);
    const [zones] = await gcpCall(`Cloud DNS managedZones.list (${zone})`, ctx, () =>
      dns.getZones({ dnsName: fqdn(zone) } as never),
    );
    const pub = zones.filter((z) => (z.metadata as { visibility?: string }).visibility !== "private");
    if (pub.length !== 1)
      throw new InvalidConfigError([
        {
          path: "options.gcp.dnsZone",
          message:
            pub.length === 0
              ? `no public Cloud DNS managed zone for ${zone}: create one, or name it here`
              : `${pub.length} public managed zones serve ${zone}: name the one to use`,
        },
      ]);
    return pub[0]!;
  }

  async #records(zone: Zone, name: string, type: string, ctx: ResourceContext): Promise<RRSet | undefined> {
    const [records] = await gcpCall(`Cloud DNS resourceRecordSets.list (${name})`, ctx, () =>
      zone.getRecords({ name: fqdn(name), type } as never),
    );
    const r = records.find((x) => fqdn(x.metadata.name ?? "") === fqdn(name) && x.type === type);
    return r
      ? { name: fqdn(name), type, ttl: Number(r.metadata.ttl), rrdatas: r.data as string[] }
      : undefined;
  }

  /** Applies one change and, unless nothing waits on it, waits until it is done. */
  async #apply(zone: Zone, add: RRSet[], del: RRSet[], what: string, ctx: ResourceContext): Promise<void> {
    const record = (r: RRSet) =>
      zone.record(r.type.toLowerCase(), { name: r.name, ttl: r.ttl, data: r.rrdatas });
    const [change] = await gcpCall(`Cloud DNS changes.create (${what})`, ctx, () =>
      zone.createChange({ add: add.map(record), delete: del.map(record) }),
    );
    if (ctx.waitForSync === false) return;
    await waitUntil(
      async () => {
        const [meta] = await gcpCall(`Cloud DNS changes.get (${what})`, ctx, () => change.getMetadata());
        return meta.status === "done"
          ? { state: "SUCCESS", value: undefined }
          : { state: "RETRY", reason: `change ${meta.id} is ${meta.status}` };
      },
      {
        ...ctx.poll,
        signal: ctx.signal,
        maxWaitMs: 10 * 60_000,
        description: `DNS change for ${what} to be done`,
      },
    );
  }

  async create(spec: DnsRecordSpec, ctx: ResourceContext): Promise<DnsRecordState> {
    return this.#converge(spec, ctx);
  }

  update(_state: DnsRecordState, spec: DnsRecordSpec, ctx: ResourceContext): Promise<DnsRecordState> {
    return this.#converge(spec, ctx);
  }

  async #converge(spec: DnsRecordSpec, ctx: ResourceContext): Promise<DnsRecordState> {
    if (spec.target.type !== "A")
      throw new ProviderError(
        `Cloud DNS record for ${spec.hostname}: only A records are written (the load balancers have IPs)`,
      );
    const zone = await this.#zone(spec.zone, ctx);
    const name = fqdn(spec.hostname);
    const want: RRSet = { name, type: "A", ttl: spec.ttl, rrdatas: [...spec.target.addresses].sort() };
    const owner: RRSet = {
      name: fqdn(`${HERITAGE_PREFIX}${spec.hostname}`),
      type: "TXT",
      ttl: 300,
      rrdatas: [heritage(ctx.tags)],
    };
    const [a, txt] = await Promise.all([
      this.#records(zone, name, "A", ctx),
      this.#records(zone, owner.name, "TXT", ctx),
    ]);
    if (a && !(txt && hasLabels(heritageLabels(txt.rrdatas[0] ?? ""), { "k3sinfra:cluster": ctx.cluster })))
      throw new ProviderError(
        `Not touching ${undot(name)}: an A record exists that k3sinfra cluster '${ctx.cluster}' does not own (no ${undot(owner.name)} TXT record naming it). Remove it or choose another rancher.hostname.`,
      );
    const sameA = a && a.ttl === want.ttl && [...a.rrdatas].sort().join() === want.rrdatas.join();
    const sameTxt = txt && txt.rrdatas.join() === owner.rrdatas.join();
    if (!sameA || !sameTxt) {
      try {
        await this.#apply(
          zone,
          [...(sameA ? [] : [want]), ...(sameTxt ? [] : [owner])],
          [...(a && !sameA ? [a] : []), ...(txt && !sameTxt ? [txt] : [])],
          undot(name),
          ctx,
        );
      } catch (error) {
        // Another process wrote it meanwhile (409) or changed it (412): read again and converge.
        if (httpStatusOf(error) !== 409 && httpStatusOf(error) !== 412) throw error;
        return this.#converge(spec, ctx);
      }
    }
    return {
      id: `${zone.name}/${undot(name)}/A`,
      zoneId: zone.name,
      hostname: undot(name),
      type: "A",
      values: want.rrdatas,
      ttl: want.ttl,
    };
  }

  async read(state: DnsRecordState, ctx: ResourceContext): Promise<DnsRecordState | undefined> {
    const dns = await this.clients.dns();
    const a = await this.#records(dns.zone(state.zoneId), state.hostname, "A", ctx);
    return a ? { ...state, values: [...a.rrdatas].sort(), ttl: a.ttl } : undefined;
  }

  async delete(state: DnsRecordState, ctx: ResourceContext): Promise<void> {
    const dns = await this.clients.dns();
    const zone = dns.zone(state.zoneId);
    for (let attempt = 0; attempt < 3; attempt++) {
      const [a, txt] = await Promise.all([
        this.#records(zone, state.hostname, "A", ctx),
        this.#records(zone, `${HERITAGE_PREFIX}${state.hostname}`, "TXT", ctx),
      ]);
      if (!txt || !hasLabels(heritageLabels(txt.rrdatas[0] ?? ""), { "k3sinfra:cluster": ctx.cluster }))
        return;
      try {
        await this.#apply(zone, [], [...(a ? [a] : []), txt], state.hostname, ctx);
        return;
      } catch (error) {
        const status = httpStatusOf(error);
        if (status !== 404 && status !== 412) throw error;
      }
    }
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<DnsRecordState[]> {
    const zone = await this.#zone(this.zoneName, ctx);
    const [records] = await gcpCall("Cloud DNS resourceRecordSets.list", ctx, () =>
      zone.getRecords("txt" as never),
    );
    const out: DnsRecordState[] = [];
    for (const r of records) {
      const name = fqdn(r.metadata.name ?? "");
      if (!name.startsWith(HERITAGE_PREFIX) || !hasLabels(heritageLabels(String(r.data?.[0] ?? "")), tags))
        continue;
      const hostname = undot(name.slice(HERITAGE_PREFIX.length));
      const a = await this.#records(zone, hostname, "A", ctx);
      if (a)
        out.push({
          id: `${zone.name}/${hostname}/A`,
          zoneId: zone.name,
          hostname,
          type: "A",
          values: [...a.rrdatas].sort(),
          ttl: a.ttl,
        });
    }
    return out;
  }
}

import {
  AlreadyExistsError,
  type DnsRecordService,
  type DnsRecordSpec,
  type DnsRecordState,
  type DnsTarget,
  InvalidConfigError,
  K3sinfraError,
  ProviderError,
  type ResourceContext,
  TAG_CLUSTER,
  type Tags,
} from "@k3sinfra/core";
import type Cloudflare from "cloudflare";
import { type CallContext, cfCall } from "./call.js";
import type { CloudflareClient } from "./client.js";
import type { CloudflareOptions } from "./options.js";
import { carries, ownershipComment, ownershipOf, ownershipTags } from "./ownership.js";

/** A DNS record as the API returns it, reduced to what k3sinfra reads. */
interface CfRecord {
  id: string;
  name: string;
  type: string;
  content?: string;
  ttl: number;
  proxied?: boolean;
  comment?: string | null;
  tags?: string[];
}

/** The zone a record lives in; `plan` decides whether record tags are available (paid plans only). */
export interface CloudflareZone {
  readonly id: string;
  readonly name: string;
  /** `plan.legacy_id`: free, pro, business, enterprise. */
  readonly plan: string;
}

/** The warning reported when a record is proxied (`dns.proxied` with `options.cloudflare.allowProxied`). */
export const PROXY_WARNING =
  "warning: dns.proxied is on: Cloudflare terminates TLS for this name with its own certificate, so Rancher agents using strict TLS (Rancher's default agent-tls-mode) will refuse to connect unless Rancher trusts that certificate";

/** Types that share a name only under Cloudflare's CNAME rules; any of them at our name that we do not own blocks us. */
const ADDRESS_TYPES = new Set(["A", "AAAA", "CNAME"]);

const norm = (name: string) => name.toLowerCase().replace(/\.$/, "");

/** The records a target needs: one A per address (deduplicated), or one CNAME. ALIAS is not offered. */
function desiredRecords(target: DnsTarget): { type: "A" | "CNAME"; contents: string[] } {
  if (target.type === "A") {
    const contents = [...new Set(target.addresses)].sort();
    if (contents.length === 0)
      throw new ProviderError("Cloudflare DNS: the load balancer has no IP address to point at");
    return { type: "A", contents };
  }
  if (target.type === "CNAME") return { type: "CNAME", contents: [norm(target.hostname)] };
  throw new ProviderError(
    "Cloudflare DNS has no ALIAS records: point it at the load balancer's IPs (A) or host name (CNAME)",
  );
}

/**
 * The Rancher hostname on Cloudflare DNS: A records (one per load balancer address) or a CNAME, DNS-only unless
 * `dns.proxied`. Ownership lives in each record's comment (and tags on paid plans); a record at the name that
 * this cluster does not own is never overwritten. The state id is `<zone id>/<hostname>`.
 */
export class CloudflareDnsRecordService implements DnsRecordService {
  readonly updatable = ["target", "ttl", "proxied"] as const;
  readonly #client: CloudflareClient;
  readonly #options: CloudflareOptions;
  readonly #zoneName: string;
  readonly #zones = new Map<string, Promise<CloudflareZone>>();

  /**
   * @param zoneName the config's `dns.zone`, used by `findByTags`.
   */
  constructor(client: CloudflareClient, options: CloudflareOptions, zoneName: string) {
    this.#client = client;
    this.#options = options;
    this.#zoneName = norm(zoneName);
  }

  async create(spec: DnsRecordSpec, ctx: ResourceContext): Promise<DnsRecordState> {
    return this.#reconcile(spec, ctx);
  }

  async update(_state: DnsRecordState, spec: DnsRecordSpec, ctx: ResourceContext): Promise<DnsRecordState> {
    return this.#reconcile(spec, ctx);
  }

  async read(state: DnsRecordState, ctx: ResourceContext): Promise<DnsRecordState | undefined> {
    const mine = (await this.#list(state.zoneId, { name: { exact: state.hostname } }, ctx)).filter((r) =>
      carries(r, ctx.tags),
    );
    return mine.length > 0 ? toState(state.zoneId, state.hostname, mine) : undefined;
  }

  async delete(state: DnsRecordState, ctx: ResourceContext): Promise<void> {
    const mine = (await this.#list(state.zoneId, { name: { exact: state.hostname } }, ctx)).filter((r) =>
      carries(r, ctx.tags),
    );
    const cf = await this.#client.get();
    for (const r of mine) {
      try {
        await this.#call(`Cloudflare delete ${r.type} ${r.name}`, ctx, (o) =>
          cf.dns.records.delete(r.id, { zone_id: state.zoneId }, o),
        );
      } catch (error) {
        if (!K3sinfraError.is(error, "NotFound")) throw error;
      }
    }
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<DnsRecordState[]> {
    const zone = await this.zone(this.#zoneName, ctx);
    // The comment filter narrows the listing server-side; ownership is then checked exactly.
    const cluster = tags[TAG_CLUSTER];
    const hint = cluster ? `k3sinfra:cluster=${cluster}` : "k3sinfra:";
    const records = (await this.#list(zone.id, { comment: { contains: hint } }, ctx)).filter((r) =>
      carries(r, tags),
    );
    const groups = new Map<string, CfRecord[]>();
    for (const r of records) {
      const key = `${norm(r.name)}|${ownershipOf(r)["k3sinfra:resource"] ?? ""}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    return [...groups.values()]
      .map((rs) => toState(zone.id, norm(rs[0]?.name ?? ""), rs))
      .sort((a, b) => a.hostname.localeCompare(b.hostname));
  }

  async native(): Promise<unknown> {
    return this.#client.get();
  }

  /**
   * The zone by `options.cloudflare.zoneId` or by name; a zone the token cannot see is a config error on
   * `dns.zone`. Cached per service; a failed lookup is retried next time.
   */
  zone(name: string, ctx: CallContext): Promise<CloudflareZone> {
    const key = norm(name);
    let p = this.#zones.get(key);
    if (!p) {
      p = this.#lookupZone(key, ctx);
      this.#zones.set(key, p);
      p.catch(() => this.#zones.delete(key));
    }
    return p;
  }

  async #lookupZone(name: string, ctx: CallContext): Promise<CloudflareZone> {
    const cf = await this.#client.get();
    const zoneId = this.#options.zoneId;
    const info = (z: Cloudflare.Zones.Zone): CloudflareZone => ({
      id: z.id,
      name: norm(z.name),
      plan: z.plan?.legacy_id ?? "free",
    });
    if (zoneId) {
      const z = info(
        await this.#call(`Cloudflare get zone ${zoneId}`, ctx, (o) => cf.zones.get({ zone_id: zoneId }, o)),
      );
      if (z.name !== name)
        throw new InvalidConfigError([
          {
            path: "options.cloudflare.zoneId",
            message: `is the zone '${z.name}', not dns.zone '${name}': fix one of them (or drop zoneId to look the zone up by name)`,
          },
        ]);
      return z;
    }
    const zones = await this.#call(`Cloudflare list zones (${name})`, ctx, async (o) => {
      const out: Cloudflare.Zones.Zone[] = [];
      for await (const z of cf.zones.list({ name }, o)) out.push(z);
      return out;
    });
    const found = zones.find((z) => norm(z.name) === name);
    if (!found)
      throw new InvalidConfigError([
        {
          path: "dns.zone",
          message: `no Cloudflare zone '${name}' is visible to this API token: add the domain to your Cloudflare account, give the token Zone:Read and DNS:Edit on it, or fix dns.zone`,
        },
      ]);
    return info(found);
  }

  /** Makes the records at `spec.hostname` match the spec: adopts ours, refuses foreign ones, then edits, replaces, deletes, creates. */
  async #reconcile(spec: DnsRecordSpec, ctx: ResourceContext): Promise<DnsRecordState> {
    const hostname = norm(spec.hostname);
    const want = desiredRecords(spec.target);
    const zone = await this.zone(spec.zone, ctx);
    if (spec.proxied) ctx.report(PROXY_WARNING);
    const existing = await this.#list(zone.id, { name: { exact: hostname } }, ctx);
    const mine = existing.filter((r) => carries(r, ctx.tags));
    const foreign = existing.filter((r) => !mine.includes(r) && ADDRESS_TYPES.has(r.type));
    if (foreign.length > 0) throw foreignError(hostname, foreign, ctx.tags);

    const attrs = {
      ttl: spec.ttl,
      proxied: spec.proxied,
      comment: ownershipComment(ctx.tags),
      ...(zone.plan !== "free" ? { tags: ownershipTags(ctx.tags) } : {}),
    };
    const sameAttrs = (r: CfRecord) =>
      r.ttl === attrs.ttl &&
      (r.proxied ?? false) === attrs.proxied &&
      (r.comment ?? "") === attrs.comment &&
      (attrs.tags === undefined || [...(r.tags ?? [])].sort().join(" ") === attrs.tags.join(" "));
    const cf = await this.#client.get();
    const body = (content: string) =>
      ({
        zone_id: zone.id,
        type: want.type,
        name: hostname,
        content,
        ...attrs,
      }) as Cloudflare.DNS.RecordCreateParams;

    const leftovers = [...mine];
    const pending: string[] = [];
    for (const content of want.contents) {
      const i = leftovers.findIndex((r) => r.type === want.type && norm(r.content ?? "") === norm(content));
      if (i < 0) {
        pending.push(content);
        continue;
      }
      const [match] = leftovers.splice(i, 1);
      if (match && !sameAttrs(match))
        await this.#call(`Cloudflare edit ${want.type} ${hostname}`, ctx, (o) =>
          cf.dns.records.edit(match.id, body(content) as Cloudflare.DNS.RecordEditParams, o),
        );
    }
    // Same-type records change content in place (no gap); records of the other type must go before the new
    // type can be created, since a CNAME cannot share its name with A records (81053/81054).
    while (pending.length > 0) {
      const i = leftovers.findIndex((r) => r.type === want.type);
      if (i < 0) break;
      const [old] = leftovers.splice(i, 1);
      const content = pending.shift() ?? "";
      if (old)
        await this.#call(`Cloudflare update ${want.type} ${hostname}`, ctx, (o) =>
          cf.dns.records.update(old.id, body(content) as Cloudflare.DNS.RecordUpdateParams, o),
        );
    }
    for (const old of leftovers) {
      try {
        await this.#call(`Cloudflare delete ${old.type} ${hostname}`, ctx, (o) =>
          cf.dns.records.delete(old.id, { zone_id: zone.id }, o),
        );
      } catch (error) {
        if (!K3sinfraError.is(error, "NotFound")) throw error;
      }
    }
    for (const content of pending) {
      try {
        await this.#call(`Cloudflare create ${want.type} ${hostname}`, ctx, (o) =>
          cf.dns.records.create(body(content), o),
        );
      } catch (error) {
        // A concurrent run may have created the same record; adopt it if it is ours.
        if (!K3sinfraError.is(error, "AlreadyExists")) throw error;
        const now = await this.#list(zone.id, { name: { exact: hostname } }, ctx);
        if (
          !now.some(
            (r) => r.type === want.type && norm(r.content ?? "") === norm(content) && carries(r, ctx.tags),
          )
        )
          throw foreignError(
            hostname,
            now.filter((r) => !carries(r, ctx.tags)),
            ctx.tags,
            error,
          );
      }
    }
    return {
      id: `${zone.id}/${hostname}`,
      zoneId: zone.id,
      hostname,
      type: want.type,
      values: want.contents,
      ttl: spec.ttl,
    };
  }

  /** Every record of the zone matching the filter, all pages. */
  async #list(
    zoneId: string,
    filter: Omit<Cloudflare.DNS.RecordListParams, "zone_id">,
    ctx: CallContext,
  ): Promise<CfRecord[]> {
    const cf = await this.#client.get();
    return this.#call(`Cloudflare list DNS records in zone ${zoneId}`, ctx, async (o) => {
      const out: CfRecord[] = [];
      for await (const r of cf.dns.records.list({ zone_id: zoneId, per_page: 100, ...filter }, o))
        out.push(r as CfRecord);
      return out;
    });
  }

  #call<T>(what: string, ctx: CallContext, fn: (o: { signal?: AbortSignal }) => Promise<T>): Promise<T> {
    return cfCall(what, ctx, fn, this.#client.secrets);
  }
}

/** The state of the records at one name (sorted values; A unless they are a CNAME). */
function toState(zoneId: string, hostname: string, records: readonly CfRecord[]): DnsRecordState {
  const cname = records.find((r) => r.type === "CNAME");
  return {
    id: `${zoneId}/${hostname}`,
    zoneId,
    hostname,
    type: cname ? "CNAME" : "A",
    values: records.map((r) => norm(r.content ?? "")).sort(),
    ttl: records[0]?.ttl ?? 0,
  };
}

/** The refusal to touch records this cluster does not own, saying whose they are and what to do. */
function foreignError(
  hostname: string,
  foreign: readonly CfRecord[],
  tags: Tags,
  cause?: unknown,
): AlreadyExistsError {
  const owners = [...new Set(foreign.map((r) => ownershipOf(r)[TAG_CLUSTER]).filter((c) => c !== undefined))];
  const what = foreign.map((r) => `${r.type} ${r.content ?? ""}`.trim()).join(", ");
  const whose =
    owners.length > 0
      ? `it belongs to k3sinfra cluster ${owners.map((o) => `'${o}'`).join(", ")}, not '${tags[TAG_CLUSTER] ?? ""}'`
      : "it was not created by k3sinfra (no k3sinfra ownership comment)";
  return new AlreadyExistsError(
    `Cloudflare already has a record at ${hostname} (${what}); ${whose}. k3sinfra does not overwrite records it does not own: delete it in Cloudflare, or choose another rancher.hostname.`,
    cause === undefined ? undefined : { cause },
  );
}

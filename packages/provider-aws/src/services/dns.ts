import type { Change, ResourceRecordSet, Route53 } from "@aws-sdk/client-route-53";
import {
  AlreadyExistsError,
  type DnsRecordService,
  type DnsRecordSpec,
  type DnsRecordState,
  InvalidConfigError,
  ProviderError,
  type ResourceContext,
  TAG_CLUSTER,
  type Tags,
  waitUntil,
} from "@k3sinfra/core";
import { awsCall, type CallContext } from "../call.js";
import type { AwsClients } from "../clients.js";
import { hasAwsCode } from "../errors.js";
import type { AwsOptions } from "../options.js";

/** Prefix of the TXT record that marks a record as ours (Route 53 records carry no tags), as external-dns does. */
export const HERITAGE_PREFIX = "_k3sinfra.";

const dot = (name: string) => (name.endsWith(".") ? name.toLowerCase() : `${name.toLowerCase()}.`);
const undot = (name: string) => name.replace(/\.$/, "");
const stripZoneId = (id: string) => id.replace(/^\/hostedzone\//, "");

/** The heritage TXT value: `"k3sinfra:cluster=<name>,<other tag>=<value>…"` (cluster first). */
export const heritageValue = (tags: Tags): string => {
  const entries = Object.entries(tags).sort(([a], [b]) =>
    a === TAG_CLUSTER ? -1 : b === TAG_CLUSTER ? 1 : a.localeCompare(b),
  );
  return `"${entries.map(([k, v]) => `${k}=${v}`).join(",")}"`;
};

/** Reads a heritage TXT value back into tags. */
export const parseHeritage = (value: string): Record<string, string> =>
  Object.fromEntries(
    value
      .replace(/^"|"$/g, "")
      .split(",")
      .map((pair) => {
        const i = pair.indexOf("=");
        return i < 0 ? [pair, ""] : [pair.slice(0, i), pair.slice(i + 1)];
      }),
  );

const recordType = (set: ResourceRecordSet): DnsRecordState["type"] =>
  set.AliasTarget ? "ALIAS" : set.Type === "CNAME" ? "CNAME" : "A";

const toState = (zoneId: string, set: ResourceRecordSet): DnsRecordState => {
  const type = recordType(set);
  return {
    id: `${zoneId}/${undot(set.Name ?? "")}/${type}`,
    zoneId,
    hostname: undot(set.Name ?? ""),
    type,
    values: set.AliasTarget
      ? [undot(set.AliasTarget.DNSName ?? "")]
      : (set.ResourceRecords ?? []).map((r) => undot(r.Value ?? "")),
    ttl: set.TTL ?? 0,
  };
};

/** Route 53: the Rancher hostname as an alias A, A or CNAME record, plus a heritage TXT proving ownership. */
export class AwsDnsRecordService implements DnsRecordService {
  readonly updatable = ["target", "ttl"] as const satisfies readonly (keyof DnsRecordSpec)[];
  readonly #clients: AwsClients;
  readonly #options: AwsOptions;
  /** The config's `dns.zone`, where `findByTags` looks. */
  readonly #defaultZone: string | undefined;
  readonly #zoneIds = new Map<string, Promise<string>>();

  constructor(clients: AwsClients, options: AwsOptions, defaultZone?: string) {
    this.#clients = clients;
    this.#options = options;
    this.#defaultZone = defaultZone;
  }

  native(): Promise<Route53> {
    return this.#clients.route53();
  }

  /** The hosted zone id for a domain: `options.aws.hostedZoneId` if set, else the public zone of that name. */
  async zoneId(zone: string, ctx: CallContext): Promise<string> {
    let id = this.#zoneIds.get(zone);
    if (!id) {
      id = this.#lookupZone(zone, ctx);
      this.#zoneIds.set(zone, id);
      id.catch(() => this.#zoneIds.delete(zone));
    }
    return id;
  }

  async create(spec: DnsRecordSpec, ctx: ResourceContext): Promise<DnsRecordState> {
    const r53 = await this.#clients.route53();
    const zoneId = await this.zoneId(spec.zone, ctx);
    const name = dot(spec.hostname);
    const { records, heritage } = await this.#recordsAt(r53, zoneId, name, ctx);
    const owner = heritage && parseHeritage(heritage.ResourceRecords?.[0]?.Value ?? "")[TAG_CLUSTER];
    if (owner !== undefined && owner !== ctx.cluster)
      throw new AlreadyExistsError(
        `${spec.hostname} belongs to k3sinfra cluster '${owner}' (TXT ${HERITAGE_PREFIX}${spec.hostname}).`,
      );
    if (!heritage && records.length > 0)
      throw new AlreadyExistsError(
        `${spec.hostname} already has a ${records[0]?.Type} record that k3sinfra did not create; delete it or choose another rancher.hostname.`,
      );
    const desired = this.#desired(name, spec);
    // A and CNAME cannot share a name: when the record type changes, delete our old record in the same batch.
    const changes: Change[] = records
      .filter((r) => r.Type !== desired.Type)
      .map((r) => ({ Action: "DELETE", ResourceRecordSet: r }));
    changes.push(
      { Action: "UPSERT", ResourceRecordSet: desired },
      {
        Action: "UPSERT",
        ResourceRecordSet: {
          Name: `${HERITAGE_PREFIX}${name}`,
          Type: "TXT",
          TTL: spec.ttl,
          ResourceRecords: [{ Value: heritageValue(ctx.tags) }],
        },
      },
    );
    ctx.report(`writing ${desired.Type}${desired.AliasTarget ? " alias" : ""} record ${spec.hostname}`);
    await this.#change(r53, zoneId, changes, `k3sinfra ${ctx.cluster}: ${spec.hostname}`, ctx);
    return toState(zoneId, desired);
  }

  async read(state: DnsRecordState, ctx: ResourceContext): Promise<DnsRecordState | undefined> {
    const r53 = await this.#clients.route53();
    const { records } = await this.#recordsAt(r53, state.zoneId, dot(state.hostname), ctx);
    const set = records.find((r) => recordType(r) === state.type) ?? records[0];
    return set ? toState(state.zoneId, set) : undefined;
  }

  /** UPSERT is already in-place: the same path as `create`. */
  update(_state: DnsRecordState, spec: DnsRecordSpec, ctx: ResourceContext): Promise<DnsRecordState> {
    return this.create(spec, ctx);
  }

  async delete(state: DnsRecordState, ctx: ResourceContext): Promise<void> {
    const r53 = await this.#clients.route53();
    const name = dot(state.hostname);
    for (let attempt = 0; ; attempt++) {
      const { records, heritage } = await this.#recordsAt(r53, state.zoneId, name, ctx);
      const owner = heritage && parseHeritage(heritage.ResourceRecords?.[0]?.Value ?? "")[TAG_CLUSTER];
      if (owner !== undefined && owner !== ctx.cluster)
        throw new ProviderError(`Not deleting ${state.hostname}: it belongs to k3sinfra cluster '${owner}'.`);
      // DELETE must repeat the record exactly as it is, so send back what we just read.
      const changes: Change[] = [
        ...(heritage ? records : records.filter((r) => recordType(r) === state.type)),
        ...(heritage ? [heritage] : []),
      ].map((r) => ({ Action: "DELETE", ResourceRecordSet: r }));
      if (changes.length === 0) return;
      try {
        await this.#change(
          r53,
          state.zoneId,
          changes,
          `k3sinfra ${ctx.cluster}: delete ${state.hostname}`,
          ctx,
        );
        return;
      } catch (error) {
        // Changed between our read and the delete (e.g. another run removed it): read again, a few times.
        if (!hasAwsCode(error, "InvalidChangeBatch") || attempt >= 3) throw error;
      }
    }
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<DnsRecordState[]> {
    const zone = this.#defaultZone;
    if (!zone && !this.#options.hostedZoneId) return [];
    const r53 = await this.#clients.route53();
    const zoneId = await this.zoneId(zone ?? "", ctx);
    const all: ResourceRecordSet[] = [];
    let next: { name?: string | undefined; type?: string | undefined } = {};
    do {
      const out = await awsCall("Route 53 ListResourceRecordSets", ctx, (o) =>
        r53.listResourceRecordSets(
          { HostedZoneId: zoneId, StartRecordName: next.name, StartRecordType: next.type as never },
          o,
        ),
      );
      all.push(...(out.ResourceRecordSets ?? []));
      next = out.IsTruncated ? { name: out.NextRecordName, type: out.NextRecordType } : {};
    } while (next.name);
    const found: DnsRecordState[] = [];
    for (const txt of all) {
      if (txt.Type !== "TXT" || !txt.Name?.startsWith(HERITAGE_PREFIX)) continue;
      const heritage = parseHeritage(txt.ResourceRecords?.[0]?.Value ?? "");
      if (!Object.entries(tags).every(([k, v]) => heritage[k] === v)) continue;
      const name = txt.Name.slice(HERITAGE_PREFIX.length);
      const record = all.find((r) => r.Name === name && (r.Type === "A" || r.Type === "CNAME"));
      // A heritage record alone (after an interrupted delete) is still found, so the sweep removes it.
      found.push(
        record
          ? toState(zoneId, record)
          : {
              id: `${zoneId}/${undot(name)}/A`,
              zoneId,
              hostname: undot(name),
              type: "A",
              values: [],
              ttl: 0,
            },
      );
    }
    return found;
  }

  #desired(name: string, spec: DnsRecordSpec): ResourceRecordSet {
    const t = spec.target;
    if (t.type === "ALIAS")
      // Alias records carry no TTL; the LB's health is already handled by the LB itself.
      // https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-choosing-alias-non-alias.html
      return {
        Name: name,
        Type: "A",
        AliasTarget: { HostedZoneId: t.zoneId, DNSName: dot(t.dnsName), EvaluateTargetHealth: false },
      };
    if (t.type === "CNAME")
      return { Name: name, Type: "CNAME", TTL: spec.ttl, ResourceRecords: [{ Value: dot(t.hostname) }] };
    return { Name: name, Type: "A", TTL: spec.ttl, ResourceRecords: t.addresses.map((Value) => ({ Value })) };
  }

  async #recordsAt(r53: Route53, zoneId: string, name: string, ctx: CallContext) {
    const list = async (start: string) => {
      const out = await awsCall(`Route 53 ListResourceRecordSets (${undot(start)})`, ctx, (o) =>
        r53.listResourceRecordSets({ HostedZoneId: zoneId, StartRecordName: start, MaxItems: 10 }, o),
      );
      // Listing starts at the name, in order; keep only the sets of exactly that name.
      return (out.ResourceRecordSets ?? []).filter((r) => dot(r.Name ?? "") === start);
    };
    const records = (await list(name)).filter((r) => r.Type === "A" || r.Type === "CNAME");
    const heritage = (await list(`${HERITAGE_PREFIX}${name}`)).find((r) => r.Type === "TXT");
    return { records, heritage };
  }

  async #change(r53: Route53, zoneId: string, changes: Change[], comment: string, ctx: ResourceContext) {
    const out = await awsCall(`Route 53 ChangeResourceRecordSets (${zoneId})`, ctx, (o) =>
      r53.changeResourceRecordSets(
        { HostedZoneId: zoneId, ChangeBatch: { Comment: comment, Changes: changes } },
        o,
      ),
    );
    const changeId = out.ChangeInfo?.Id;
    // Accepted is enough when nothing waits on the change (destroy's deletion): Route 53 applies changes in
    // order and the API already answers with the new records; only the name servers lag (about 60 s).
    if (!changeId || out.ChangeInfo?.Status === "INSYNC" || ctx.waitForSync === false) return;
    await waitUntil(
      async () => {
        const c = await awsCall("Route 53 GetChange", ctx, (o) => r53.getChange({ Id: changeId }, o));
        return c.ChangeInfo?.Status === "INSYNC"
          ? { state: "SUCCESS", value: undefined }
          : { state: "RETRY", reason: `change ${changeId} is ${c.ChangeInfo?.Status}` };
      },
      {
        description: `Route 53 change ${changeId} to be in sync`,
        maxWaitMs: 15 * 60_000,
        signal: ctx.signal,
        ...ctx.poll,
      },
    );
  }

  async #lookupZone(zone: string, ctx: CallContext): Promise<string> {
    const r53 = await this.#clients.route53();
    const given = this.#options.hostedZoneId;
    if (given) {
      const out = await awsCall(`Route 53 GetHostedZone (${given})`, ctx, (o) =>
        r53.getHostedZone({ Id: given }, o),
      );
      const name = out.HostedZone?.Name;
      if (zone && name && dot(name) !== dot(zone))
        throw new InvalidConfigError([
          { path: "options.aws.hostedZoneId", message: `is the zone ${undot(name)}, not dns.zone ${zone}` },
        ]);
      return stripZoneId(out.HostedZone?.Id ?? given);
    }
    // Lists zones in name order starting at this name; keep exact matches, public before private.
    const out = await awsCall(`Route 53 ListHostedZonesByName (${zone})`, ctx, (o) =>
      r53.listHostedZonesByName({ DNSName: zone, MaxItems: 10 }, o),
    );
    const matches = (out.HostedZones ?? []).filter((z) => dot(z.Name ?? "") === dot(zone));
    const pick = matches.find((z) => !z.Config?.PrivateZone) ?? matches[0];
    if (!pick?.Id)
      throw new InvalidConfigError([
        {
          path: "dns.zone",
          message: `no Route 53 hosted zone named ${zone} in this account: create it (aws route53 create-hosted-zone --name ${zone} --caller-reference $(date +%s)) or set options.aws.hostedZoneId`,
        },
      ]);
    if (matches.filter((z) => !z.Config?.PrivateZone).length > 1)
      throw new InvalidConfigError([
        {
          path: "options.aws.hostedZoneId",
          message: `several public hosted zones are named ${zone}: say which one`,
        },
      ]);
    return stripZoneId(pick.Id);
  }
}

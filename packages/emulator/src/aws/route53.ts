/**
 * Amazon Route 53 (REST-XML, API 2013-04-01): hosted zones, record sets, changes, zone tags.
 * API reference: https://docs.aws.amazon.com/Route53/latest/APIReference/Welcome.html
 */
import { randomUUID } from "node:crypto";
import type { CloudRequest, HttpResponse, RoutedCall } from "../cloud.js";
import type { InventoryItem } from "../types.js";
import { asArray, children, esc, parseXml, type XmlNode, xlist } from "../xml.js";
import { iso, phase, stableHex, type Tags, UPPER_ALNUM } from "./common.js";
import { canonicalHostedZoneId } from "./elbv2.js";
import { AwsError, FAULTS, type FaultTriple } from "./errors.js";
import { type AwsCloud, xmlHeaders } from "./index.js";
import { loadModel, problemToError, validateInput } from "./model.js";
import type { Tree } from "./query.js";

const XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/";

export interface RecordSet {
  name: string;
  type: string;
  ttl?: number;
  values?: string[];
  alias?: { hostedZoneId: string; dnsName: string; evaluateTargetHealth: boolean };
  setIdentifier?: string;
  weight?: number;
  changeId?: string;
}

export interface HostedZone {
  id: string;
  name: string;
  callerReference: string;
  comment?: string;
  privateZone: boolean;
  vpc?: { region: string; id: string };
  fixture: boolean;
  tags: Tags;
  nameServers: string[];
  records: RecordSet[];
  createdAt: number;
}

export interface Change {
  id: string;
  submittedAt: number;
  comment?: string;
}

export interface Route53State {
  zones: Record<string, HostedZone>;
  changes: Record<string, Change>;
  /** CallerReference -> hosted zone id. */
  callerReferences: Record<string, string>;
}

/** Seconds at time scale 1: changes propagate to all Route 53 servers "generally within 60 seconds" (GetChange reference). */
export const ROUTE53_DURATIONS = { pending: 60 };

/** Normalise a DNS name: lower case, trailing dot (Route 53 treats both forms as identical). */
export function fqdn(name: string): string {
  const n = name.trim().toLowerCase().replace(/\\052/g, "*");
  return n.endsWith(".") ? n : `${n}.`;
}

/** Route 53's ordering: by DNS name with labels reversed (com.example.www), then by type (ListResourceRecordSets reference). */
function reversedKey(name: string): string {
  return fqdn(name).slice(0, -1).split(".").reverse().join(".");
}

function compareRecords(a: { name: string; type: string }, b: { name: string; type: string }): number {
  const ka = reversedKey(a.name);
  const kb = reversedKey(b.name);
  if (ka !== kb) return ka < kb ? -1 : 1;
  return a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

const noSuchZone = (id: string) =>
  new AwsError("NoSuchHostedZone", `No hosted zone found with ID: ${id}`, 404);
const stripPrefix = (id: string) => id.replace(/^\/?(hostedzone|change|delegationset)\//, "");

const txt = (x: XmlNode | XmlNode[] | undefined): string | undefined =>
  typeof x === "string" ? x : undefined;
const node = (x: XmlNode | XmlNode[] | undefined): Record<string, XmlNode | XmlNode[]> | undefined =>
  x && typeof x === "object" && !Array.isArray(x) ? x : undefined;

interface Route {
  operation: string;
  params: Record<string, string>;
}

function matchRoute(method: string, path: string): Route | undefined {
  const p = decodeURIComponent(path.replace(/^\/2013-04-01/, "")).replace(/\/+$/, "");
  if (p === "/hostedzonesbyname" && method === "GET")
    return { operation: "ListHostedZonesByName", params: {} };
  if (p === "/hostedzonecount" && method === "GET") return { operation: "GetHostedZoneCount", params: {} };
  if (p === "/hostedzone") {
    if (method === "GET") return { operation: "ListHostedZones", params: {} };
    if (method === "POST") return { operation: "CreateHostedZone", params: {} };
  }
  const rrset = /^\/hostedzone\/([^/]+)\/rrset$/.exec(p);
  if (rrset) {
    if (method === "POST") return { operation: "ChangeResourceRecordSets", params: { Id: rrset[1]! } };
    if (method === "GET") return { operation: "ListResourceRecordSets", params: { Id: rrset[1]! } };
  }
  const zone = /^\/hostedzone\/([^/]+)$/.exec(p);
  if (zone) {
    if (method === "GET") return { operation: "GetHostedZone", params: { Id: zone[1]! } };
    if (method === "DELETE") return { operation: "DeleteHostedZone", params: { Id: zone[1]! } };
  }
  const change = /^\/change\/([^/]+)$/.exec(p);
  if (change && method === "GET") return { operation: "GetChange", params: { Id: change[1]! } };
  const tags = /^\/tags\/([^/]+)\/([^/]+)$/.exec(p);
  if (tags) {
    const params = { ResourceType: tags[1]!, ResourceId: tags[2]! };
    if (method === "GET") return { operation: "ListTagsForResource", params };
    if (method === "POST") return { operation: "ChangeTagsForResource", params };
  }
  return undefined;
}

interface R53Call {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, XmlNode | XmlNode[]>;
  now: number;
}

interface R53Result {
  root: string;
  body: Record<string, unknown>;
  status?: number;
  headers?: Record<string, string>;
}

export class Route53Service {
  constructor(private readonly cloud: AwsCloud) {}

  private get state(): Route53State {
    return this.cloud.state.route53;
  }

  changeStatus(changeId: string | undefined, now: number): string {
    const c = changeId ? this.state.changes[changeId] : undefined;
    if (!c) return "INSYNC";
    return phase(
      now,
      c.submittedAt,
      this.cloud.ctx.timeScale,
      [["PENDING", ROUTE53_DURATIONS.pending]],
      "INSYNC",
    );
  }

  /** Pre-existing public zones ("the user's domain"); idempotent across restores. */
  seedFixtures(names: string[]): void {
    for (const raw of names) {
      const name = fqdn(raw);
      if (Object.values(this.state.zones).some((z) => z.name === name && !z.privateZone)) continue;
      const id = `Z0${stableHex(`zone:${name}`, 18).toUpperCase()}`;
      this.state.zones[id] = this.newZone(id, name, `fixture:${name}`, false, true, 0);
    }
  }

  private newZone(
    id: string,
    name: string,
    callerReference: string,
    privateZone: boolean,
    fixture: boolean,
    now: number,
  ): HostedZone {
    const h = stableHex(`ns:${id}`, 8);
    const n = (i: number) => parseInt(h.slice(i * 2, i * 2 + 2), 16);
    // Four name servers of a delegation set, one per TLD (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/SOA-NSrecords.html).
    const ns = [
      `ns-${n(0) * 8}.awsdns-${String(n(0) % 64).padStart(2, "0")}.com.`,
      `ns-${512 + n(1) * 2}.awsdns-${String(n(1) % 64).padStart(2, "0")}.net.`,
      `ns-${1024 + n(2) * 2}.awsdns-${String(n(2) % 64).padStart(2, "0")}.org.`,
      `ns-${1536 + n(3) * 2}.awsdns-${String(n(3) % 64).padStart(2, "0")}.co.uk.`,
    ];
    return {
      id,
      name,
      callerReference,
      privateZone,
      fixture,
      tags: {},
      nameServers: ns,
      records: [
        { name, type: "NS", ttl: 172800, values: ns },
        {
          name,
          type: "SOA",
          ttl: 900,
          values: [`${ns[0]} awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400`],
        },
      ],
      createdAt: now,
    };
  }

  inventory(includeDefaults: boolean, now: number): InventoryItem[] {
    const out: InventoryItem[] = [];
    for (const z of Object.values(this.state.zones)) {
      if (includeDefaults || !z.fixture) {
        out.push({
          cloud: "aws",
          service: "route53",
          type: "hosted-zone",
          id: z.id,
          name: z.name,
          state: "active",
          tags: { ...z.tags },
        });
      }
      for (const r of z.records) {
        if (r.name === z.name && (r.type === "SOA" || r.type === "NS")) continue;
        out.push({
          cloud: "aws",
          service: "route53",
          type: "resource-record-set",
          id: `${z.id}/${r.name}/${r.type}${r.setIdentifier ? `/${r.setIdentifier}` : ""}`,
          name: r.name,
          state: this.changeStatus(r.changeId, now),
          tags: {},
          zoneId: z.id,
        });
      }
    }
    return out;
  }

  route(req: CloudRequest): RoutedCall | undefined {
    const match = matchRoute(req.method, req.path);
    const operation = match?.operation ?? `${req.method} ${req.path}`;
    return {
      service: "route53",
      operation,
      run: async () => this.run(match, req),
      fault: (kind) => {
        const faults = {
          ...FAULTS.route53!,
          // A throttled change is reported as PriorRequestNotComplete (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html#API_ChangeResourceRecordSets_Errors).
          ...(operation === "ChangeResourceRecordSets"
            ? {
                throttle: [
                  "PriorRequestNotComplete",
                  400,
                  "The request was rejected because Route 53 was still processing a prior request.",
                ] as FaultTriple,
              }
            : {}),
        };
        const [code, status, message] = faults[kind]!;
        return this.error(new AwsError(code, message, status), randomUUID());
      },
    };
  }

  private error(err: AwsError, requestId: string): HttpResponse {
    return {
      status: err.status,
      headers: xmlHeaders(requestId),
      body: `<?xml version="1.0"?>\n<ErrorResponse xmlns="${XMLNS}"><Error><Type>${err.type}</Type><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }

  private async run(match: Route | undefined, req: CloudRequest): Promise<HttpResponse> {
    const requestId = randomUUID();
    try {
      if (!match)
        throw new AwsError("InvalidAction", `Unsupported Route 53 request: ${req.method} ${req.path}`, 400);
      let parsed: Record<string, XmlNode> = {};
      try {
        parsed = parseXml(req.body);
      } catch {
        throw new AwsError("InvalidInput", "Could not parse the request body as XML");
      }
      const rootName = Object.keys(parsed)[0];
      const body = node(rootName ? parsed[rootName] : undefined) ?? {};
      const params = Object.fromEntries(
        Object.entries(match.params).map(([k, val]) => [k, stripPrefix(val)]),
      );
      const model = loadModel("route53", this.cloud.ctx.log);
      if (model) {
        const tree: Record<string, unknown> = { ...body, ...params };
        for (const [k, val] of req.query) tree[k] = val;
        const problems = validateInput(model, match.operation, tree as Tree, "rest-xml");
        if (problems[0]) throw problemToError(problems[0], "route53");
      }
      const handler = this.ops[match.operation];
      if (!handler) throw new AwsError("InvalidAction", `Unsupported Route 53 operation ${match.operation}`);
      const out = handler({ params, query: req.query, body, now: this.cloud.ctx.now() });
      const xml = `<?xml version="1.0"?>\n<${out.root} xmlns="${XMLNS}">${children(out.body, "member")}</${out.root}>`;
      return { status: out.status ?? 200, headers: { ...xmlHeaders(requestId), ...out.headers }, body: xml };
    } catch (err) {
      if (err instanceof AwsError) return this.error(err, requestId);
      throw err;
    }
  }

  private zone(id: string): HostedZone {
    const z = this.state.zones[stripPrefix(id)];
    if (!z) throw noSuchZone(stripPrefix(id));
    return z;
  }

  private zoneOut(z: HostedZone) {
    return {
      Id: `/hostedzone/${z.id}`,
      Name: z.name,
      CallerReference: z.callerReference,
      Config: { Comment: z.comment, PrivateZone: z.privateZone },
      ResourceRecordSetCount: z.records.length,
    };
  }

  private changeOut(c: Change, now: number) {
    return {
      Id: `/change/${c.id}`,
      Status: this.changeStatus(c.id, now),
      SubmittedAt: iso(c.submittedAt),
      Comment: c.comment,
    };
  }

  private recordOut(r: RecordSet) {
    return {
      Name: r.name,
      Type: r.type,
      SetIdentifier: r.setIdentifier,
      Weight: r.weight,
      TTL: r.alias ? undefined : r.ttl,
      ResourceRecords: r.values
        ? xlist(
            "ResourceRecord",
            r.values.map((Value) => ({ Value })),
          )
        : undefined,
      AliasTarget: r.alias
        ? {
            HostedZoneId: r.alias.hostedZoneId,
            DNSName: r.alias.dnsName,
            EvaluateTargetHealth: r.alias.evaluateTargetHealth,
          }
        : undefined,
    };
  }

  private newChange(now: number, comment?: string): Change {
    const c: Change = { id: `C${this.cloud.ctx.rng.chars(20, UPPER_ALNUM)}`, submittedAt: now, comment };
    this.state.changes[c.id] = c;
    return c;
  }

  private readonly ops: Record<string, (c: R53Call) => R53Result> = {
    GetHostedZoneCount: () => ({
      root: "GetHostedZoneCountResponse",
      body: { HostedZoneCount: Object.keys(this.state.zones).length },
    }),

    CreateHostedZone: ({ body, now }) => {
      const name = fqdn(txt(body.Name) ?? "");
      // Domain names: labels of 1-63 letters, digits, hyphens (or escapes), at most 255 characters
      // (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html).
      if (name.length > 255 || !/^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+$/.test(name)) {
        throw new AwsError("InvalidDomainName", `${name} is not a valid domain name.`);
      }
      if (!name.slice(0, -1).includes("."))
        throw new AwsError("InvalidDomainName", `${name} is reserved by AWS!`);
      const ref = txt(body.CallerReference) ?? "";
      const cfg = node(body.HostedZoneConfig);
      const comment = cfg ? txt(cfg.Comment) : undefined;
      const vpcNode = node(body.VPC);
      const privateZone = cfg?.PrivateZone === "true" || !!vpcNode;
      if (privateZone && !vpcNode)
        throw new AwsError("InvalidInput", "A VPC must be specified for a private hosted zone");
      const existingId = this.state.callerReferences[ref];
      if (existingId) {
        const z = this.state.zones[existingId];
        // CallerReference makes retries safe: the same request returns the zone it created; a different
        // request with a used reference is HostedZoneAlreadyExists (CreateHostedZone reference).
        if (z && z.name === name && z.privateZone === privateZone && z.comment === comment) {
          const c = this.newChange(z.createdAt);
          return this.createdZone(z, c, now);
        }
        throw new AwsError(
          "HostedZoneAlreadyExists",
          `A hosted zone has already been created with the specified caller reference.`,
          409,
        );
      }
      const id = `Z0${this.cloud.ctx.rng.chars(19, UPPER_ALNUM)}`;
      const z = this.newZone(id, name, ref, privateZone, false, now);
      z.comment = comment;
      if (vpcNode) z.vpc = { region: txt(vpcNode.VPCRegion) ?? "us-east-1", id: txt(vpcNode.VPCId) ?? "" };
      this.state.zones[id] = z;
      this.state.callerReferences[ref] = id;
      const c = this.newChange(now);
      return this.createdZone(z, c, now);
    },

    GetHostedZone: ({ params }) => {
      const z = this.zone(params.Id!);
      return {
        root: "GetHostedZoneResponse",
        body: {
          HostedZone: this.zoneOut(z),
          DelegationSet: z.privateZone
            ? undefined
            : {
                NameServers: xlist(
                  "NameServer",
                  z.nameServers.map((n) => n.slice(0, -1)),
                ),
              },
          VPCs: z.vpc ? xlist("VPC", [{ VPCRegion: z.vpc.region, VPCId: z.vpc.id }]) : undefined,
        },
      };
    },

    DeleteHostedZone: ({ params, now }) => {
      const z = this.zone(params.Id!);
      if (z.records.some((r) => !(r.name === z.name && (r.type === "SOA" || r.type === "NS")))) {
        // https://docs.aws.amazon.com/Route53/latest/APIReference/API_DeleteHostedZone.html (HostedZoneNotEmpty)
        throw new AwsError(
          "HostedZoneNotEmpty",
          "The specified hosted zone contains non-required resource record sets and so cannot be deleted.",
          400,
        );
      }
      delete this.state.zones[z.id];
      return {
        root: "DeleteHostedZoneResponse",
        body: { ChangeInfo: this.changeOut(this.newChange(now), now) },
      };
    },

    ListHostedZones: ({ query }) => {
      const zones = Object.values(this.state.zones).sort((a, b) => (a.id < b.id ? -1 : 1));
      const max = Math.min(Number(query.get("maxitems") ?? "100") || 100, 100);
      const marker = query.get("marker");
      const start = marker
        ? Math.max(
            0,
            zones.findIndex((z) => z.id === marker),
          )
        : 0;
      const page = zones.slice(start, start + max);
      const next = zones[start + max];
      return {
        root: "ListHostedZonesResponse",
        body: {
          HostedZones: xlist(
            "HostedZone",
            page.map((z) => this.zoneOut(z)),
          ),
          Marker: marker ?? undefined,
          IsTruncated: !!next,
          NextMarker: next?.id,
          MaxItems: String(max),
        },
      };
    },

    ListHostedZonesByName: ({ query }) => {
      const dns = query.get("dnsname");
      const startId = query.get("hostedzoneid");
      if (startId && !dns)
        throw new AwsError(
          "InvalidInput",
          "The hosted zone ID can only be specified together with the DNS name.",
        );
      const zones = Object.values(this.state.zones).sort((a, b) =>
        compareRecords({ name: a.name, type: a.id }, { name: b.name, type: b.id }),
      );
      const max = Math.min(Number(query.get("maxitems") ?? "100") || 100, 100);
      let start = 0;
      if (dns) {
        const key = reversedKey(dns);
        start = zones.findIndex(
          (z) => reversedKey(z.name) > key || (reversedKey(z.name) === key && (!startId || z.id >= startId)),
        );
        if (start < 0) start = zones.length;
      }
      const page = zones.slice(start, start + max);
      const next = zones[start + max];
      return {
        root: "ListHostedZonesByNameResponse",
        body: {
          HostedZones: xlist(
            "HostedZone",
            page.map((z) => this.zoneOut(z)),
          ),
          DNSName: dns ? fqdn(dns) : undefined,
          HostedZoneId: startId ?? undefined,
          IsTruncated: !!next,
          NextDNSName: next?.name,
          NextHostedZoneId: next?.id,
          MaxItems: String(max),
        },
      };
    },

    ChangeResourceRecordSets: ({ params, body, now }) => this.changeRecords(this.zone(params.Id!), body, now),

    ListResourceRecordSets: ({ params, query }) => {
      const z = this.zone(params.Id!);
      const name = query.get("name");
      const type = query.get("type");
      if (type && !name)
        throw new AwsError(
          "InvalidInput",
          "The input is not valid: a type can only be specified together with a name.",
        );
      const max = Math.min(Number(query.get("maxitems") ?? "300") || 300, 300);
      const records = [...z.records].sort(compareRecords);
      let start = 0;
      if (name) {
        const from = { name: fqdn(name), type: type ?? "" };
        start = records.findIndex((r) => compareRecords(r, from) >= 0);
        if (start < 0) start = records.length;
      }
      const page = records.slice(start, start + max);
      const next = records[start + max];
      return {
        root: "ListResourceRecordSetsResponse",
        body: {
          ResourceRecordSets: xlist(
            "ResourceRecordSet",
            page.map((r) => this.recordOut(r)),
          ),
          IsTruncated: !!next,
          NextRecordName: next?.name,
          NextRecordType: next?.type,
          NextRecordIdentifier: next?.setIdentifier,
          MaxItems: String(max),
        },
      };
    },

    GetChange: ({ params, now }) => {
      const c = this.state.changes[params.Id!];
      if (!c)
        throw new AwsError("NoSuchChange", `A change with the specified change ID does not exist.`, 404);
      return { root: "GetChangeResponse", body: { ChangeInfo: this.changeOut(c, now) } };
    },

    ListTagsForResource: ({ params }) => {
      const tags = this.tagsOf(params.ResourceType!, params.ResourceId!);
      return {
        root: "ListTagsForResourceResponse",
        body: {
          ResourceTagSet: {
            ResourceType: params.ResourceType,
            ResourceId: params.ResourceId,
            Tags: xlist(
              "Tag",
              Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
            ),
          },
        },
      };
    },

    ChangeTagsForResource: ({ params, body }) => {
      const tags = this.tagsOf(params.ResourceType!, params.ResourceId!);
      const add = asArray(node(body.AddTags)?.Tag).map((t) => {
        const n = node(t as XmlNode) ?? {};
        return [txt(n.Key) ?? "", txt(n.Value) ?? ""] as const;
      });
      const remove = asArray(node(body.RemoveTagKeys)?.Key).map((k) => (typeof k === "string" ? k : ""));
      // At most 10 tags per request and 50 per resource (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeTagsForResource.html).
      if (add.length > 10 || remove.length > 10)
        throw new AwsError("InvalidInput", "You can add or remove at most 10 tags in one request.");
      const next = { ...tags };
      for (const k of remove) delete next[k];
      for (const [k, val] of add) next[k] = val;
      if (Object.keys(next).length > 50) throw new AwsError("ThrottlingException", "Tag limit exceeded");
      for (const k of Object.keys(tags)) delete tags[k];
      Object.assign(tags, next);
      return { root: "ChangeTagsForResourceResponse", body: {} };
    },
  };

  private createdZone(z: HostedZone, c: Change, now: number): R53Result {
    return {
      root: "CreateHostedZoneResponse",
      status: 201,
      headers: { Location: `https://route53.amazonaws.com/2013-04-01/hostedzone/${z.id}` },
      body: {
        HostedZone: this.zoneOut(z),
        ChangeInfo: this.changeOut(c, now),
        DelegationSet: z.privateZone
          ? undefined
          : {
              NameServers: xlist(
                "NameServer",
                z.nameServers.map((n) => n.slice(0, -1)),
              ),
            },
        VPC: z.vpc ? { VPCRegion: z.vpc.region, VPCId: z.vpc.id } : undefined,
      },
    };
  }

  private tagsOf(type: string, id: string): Tags {
    if (type !== "hostedzone")
      throw new AwsError("InvalidInput", `Tagging is emulated for hosted zones only (got ${type})`);
    return this.zone(id).tags;
  }

  private readRecord(n: Record<string, XmlNode | XmlNode[]>): RecordSet {
    const name = fqdn(txt(n.Name) ?? "");
    const type = txt(n.Type) ?? "";
    const r: RecordSet = { name, type };
    const ttl = txt(n.TTL);
    if (ttl !== undefined) r.ttl = Number(ttl);
    const rrs = node(n.ResourceRecords);
    if (rrs) r.values = asArray(rrs.ResourceRecord).map((x) => txt(node(x as XmlNode)?.Value) ?? "");
    const alias = node(n.AliasTarget);
    if (alias) {
      r.alias = {
        hostedZoneId: stripPrefix(txt(alias.HostedZoneId) ?? ""),
        dnsName: fqdn(txt(alias.DNSName) ?? ""),
        evaluateTargetHealth: txt(alias.EvaluateTargetHealth) === "true",
      };
    }
    const sid = txt(n.SetIdentifier);
    if (sid !== undefined) r.setIdentifier = sid;
    const weight = txt(n.Weight);
    if (weight !== undefined) r.weight = Number(weight);
    return r;
  }

  private changeRecords(z: HostedZone, body: Record<string, XmlNode | XmlNode[]>, now: number): R53Result {
    const batch = node(body.ChangeBatch) ?? {};
    const changes = asArray(node(batch.Changes)?.Change).map((c) => node(c as XmlNode) ?? {});
    if (changes.length === 0)
      throw new AwsError("InvalidInput", "The request must contain at least one change.");
    const records = z.records.map((r) => ({ ...r }));
    const errors: string[] = [];
    const same = (a: RecordSet, b: RecordSet) =>
      a.name === b.name && a.type === b.type && a.setIdentifier === b.setIdentifier;
    for (const c of changes) {
      const action = txt(c.Action) ?? "";
      const rs = this.readRecord(node(c.ResourceRecordSet) ?? {});
      const desc = `[Action=${action}, Name=${rs.name}, Type=${rs.type}, SetIdentifier=${rs.setIdentifier ?? "null"}]`;
      // Exactly one of AliasTarget or TTL+ResourceRecords (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html).
      const hasPlain = rs.ttl !== undefined || rs.values !== undefined;
      if (rs.alias && hasPlain) {
        throw new AwsError(
          "InvalidInput",
          `Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in Change with ${desc}`,
        );
      }
      if (!rs.alias && (rs.ttl === undefined || !rs.values?.length)) {
        throw new AwsError(
          "InvalidInput",
          `Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with ${desc}`,
        );
      }
      if (rs.name !== z.name && !rs.name.endsWith(`.${z.name}`)) {
        errors.push(`RRSet with DNS name ${rs.name} is not permitted in zone ${z.name}`);
        continue;
      }
      this.checkValues(rs, errors);
      const idx = records.findIndex((r) => same(r, rs));
      const label = `[name='${rs.name}', type='${rs.type}'${rs.setIdentifier ? `, set-identifier='${rs.setIdentifier}'` : ""}]`;
      if (action === "DELETE") {
        if (idx < 0) {
          errors.push(`Tried to delete resource record set ${label} but it was not found`);
          continue;
        }
        const cur = records[idx]!;
        const strip = (r: RecordSet) =>
          JSON.stringify({
            ...r,
            changeId: undefined,
            alias: r.alias ? { ...r.alias, dnsName: r.alias.dnsName } : undefined,
          });
        if (strip(cur) !== strip(rs)) {
          errors.push(
            `Tried to delete resource record set ${label} but the values provided do not match the current values`,
          );
          continue;
        }
        if (rs.name === z.name && (rs.type === "SOA" || rs.type === "NS")) {
          errors.push(
            rs.type === "SOA"
              ? "A HostedZone must contain exactly one SOA record."
              : "A HostedZone must contain at least one NS record for the zone itself.",
          );
          continue;
        }
        records.splice(idx, 1);
        continue;
      }
      if (action === "CREATE" && idx >= 0) {
        // https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html (InvalidChangeBatch)
        errors.push(`Tried to create resource record set ${label} but it already exists`);
        continue;
      }
      // CNAME rules: not at the apex, and no other record type on the same name (RFC 1034; Route 53 DeveloperGuide ResourceRecordTypes.html#CNAMEFormat).
      if (rs.type === "CNAME" && rs.name === z.name) {
        errors.push(
          `RRSet of type CNAME with DNS name ${rs.name} is not permitted at apex in zone ${z.name}`,
        );
        continue;
      }
      const conflict = records.find(
        (r) => r.name === rs.name && r.type !== rs.type && (r.type === "CNAME" || rs.type === "CNAME"),
      );
      if (conflict) {
        errors.push(
          `RRSet of type ${rs.type} with DNS name ${rs.name} is not permitted because a conflicting RRSet of type ${conflict.type} with the same DNS name already exists in zone ${z.name}`,
        );
        continue;
      }
      if (rs.alias) {
        const problem = this.checkAlias(z, rs, records);
        if (problem) {
          errors.push(problem);
          continue;
        }
      }
      if (idx >= 0) records[idx] = rs;
      else records.push(rs);
    }
    if (errors.length) throw new AwsError("InvalidChangeBatch", `[${errors.join(", ")}]`);
    const change = this.newChange(now, txt(batch.Comment));
    const touched = new Set(
      changes.map((c) => {
        const rs = node(c.ResourceRecordSet) ?? {};
        return `${fqdn(txt(rs.Name) ?? "")}|${txt(rs.Type)}`;
      }),
    );
    for (const r of records) if (touched.has(`${r.name}|${r.type}`)) r.changeId = change.id;
    z.records = records;
    return { root: "ChangeResourceRecordSetsResponse", body: { ChangeInfo: this.changeOut(change, now) } };
  }

  private checkValues(rs: RecordSet, errors: string[]): void {
    const ipv4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
    for (const val of rs.values ?? []) {
      // Value formats per type (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/ResourceRecordTypes.html).
      if (rs.type === "A" && !ipv4.test(val))
        errors.push(
          `ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '${val}'`,
        );
      if (rs.type === "AAAA" && !/^[0-9a-fA-F:]+$/.test(val))
        errors.push(
          `AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with '${val}'`,
        );
      if (rs.type === "TXT" && !/^(".*"\s*)+$/.test(val))
        errors.push(
          `Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '${val}''`,
        );
      // Each quoted TXT string holds at most 255 characters; longer text is split into several strings
      // (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/ResourceRecordTypes.html#TXTFormat).
      if (rs.type === "TXT")
        for (const [, text = ""] of val.matchAll(/"((?:[^"\\]|\\.)*)"/g))
          if (text.replace(/\\(\d{3}|.)/g, "x").length > 255)
            errors.push(
              `Invalid Resource Record: 'FATAL problem: CharacterStringTooLong (Value is too long) encountered with '${val}''`,
            );
      if (val.length > 4000) errors.push("Record value exceeds the maximum length of 4000 characters");
    }
    if (rs.type === "CNAME" && (rs.values?.length ?? 0) > 1)
      errors.push(`RRSet of type CNAME with DNS name ${rs.name} may contain only one record`);
  }

  /** Alias targets must exist: a load balancer (by its canonical zone) or a record in this zone. */
  private checkAlias(z: HostedZone, rs: RecordSet, records: RecordSet[]): string | undefined {
    const a = rs.alias!;
    const miss = `Tried to create an alias that targets ${a.dnsName}, type ${rs.type} in zone ${a.hostedZoneId}, but the alias target name does not lie within the target zone`;
    if (a.hostedZoneId === z.id) {
      return records.some((r) => r.name === a.dnsName) ? undefined : miss;
    }
    const target = a.dnsName.replace(/^dualstack\./, "").replace(/\.$/, "");
    // The alias must name the zone the load balancer's DNS name lives in, its CanonicalHostedZoneId
    // (https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html); the hosted zone
    // of another region or LB type is refused like a name outside the zone.
    for (const [regionName, region] of Object.entries(this.cloud.state.elbv2)) {
      for (const lb of Object.values(region.lbs))
        if (lb.dnsName === target)
          return a.hostedZoneId === canonicalHostedZoneId(regionName, lb.type) ? undefined : miss;
    }
    const elbZones = /\.elb\.|elb\.amazonaws\.com$/.test(target);
    return elbZones ? miss : undefined;
  }
}

/**
 * Cloud DNS v1 as `@google-cloud/dns` calls it: managed zones (list, get), resource record sets (list by name
 * and type) and changes, which are `pending` and then `done` (https://cloud.google.com/dns/docs/reference/rest/v1/changes).
 * A change applies atomically: a deletion must match the existing record set exactly (412 conditionNotMet
 * otherwise) and an addition of an existing name and type is 409 alreadyExists
 * (https://cloud.google.com/dns/docs/reference/rest/v1/changes/create).
 */
import type { CloudContext, CloudRequest, HttpResponse, RoutedCall } from "../cloud.js";
import { parseBody } from "./body.js";
import { answer, faultResponse, GcpError, gcpErrors, json } from "./errors.js";
import type { DnsChange, DnsZone, GcpState, RRSet } from "./model.js";

const fqdn = (name: string) => (name.endsWith(".") ? name : `${name}.`).toLowerCase();

export class CloudDns {
  constructor(
    private readonly state: () => GcpState,
    private readonly ctx: CloudContext,
  ) {}

  route(req: CloudRequest): RoutedCall | undefined {
    const m =
      /^\/dns\/v1\/projects\/([^/]+)\/managedZones(?:\/([^/]+)(?:\/(rrsets|changes)(?:\/([^/]+))?)?)?$/.exec(
        req.path,
      );
    if (!m) return undefined;
    const [, project = "", zone, kind, id] = m;
    const call = (operation: string, run: () => HttpResponse): RoutedCall => ({
      service: "dns",
      operation,
      run: () =>
        answer(() => {
          if (!req.headers.authorization) throw gcpErrors.unauthenticated();
          this.seed(project);
          return run();
        }),
      fault: faultResponse,
    });
    if (!zone)
      return req.method === "GET"
        ? call("managedZones.list", () => this.zones(project, req.query))
        : undefined;
    if (!kind)
      return req.method === "GET"
        ? call("managedZones.get", () => json(200, this.zoneJson(this.zone(project, zone))))
        : undefined;
    if (kind === "rrsets")
      return req.method === "GET" && !id
        ? call("resourceRecordSets.list", () => this.rrsets(project, zone, req.query))
        : undefined;
    if (req.method === "POST" && !id)
      return call("changes.create", () => this.change(project, zone, parseBody(req.body)));
    if (req.method === "GET" && id) return call("changes.get", () => this.getChange(project, zone, id));
    return undefined;
  }

  /** The fixture zones, in every project the first time it is seen. */
  seed(project: string): void {
    for (const domain of this.ctx.options.fixtures?.gcp?.managedZones ?? []) {
      const name = domain.replace(/\.$/, "").toLowerCase().replace(/\./g, "-");
      const key = `${project}/${name}`;
      if (this.state().dns.zones[key]) continue;
      const dnsName = fqdn(domain);
      this.state().dns.zones[key] = {
        project,
        name,
        dnsName,
        id: String(1_000_000_000 + this.ctx.rng.int(8_000_000_000)),
        visibility: "public",
        rrsets: [
          {
            name: dnsName,
            type: "NS",
            ttl: 21600,
            rrdatas: ["ns-cloud-a1.googledomains.com.", "ns-cloud-a2.googledomains.com."],
          },
          {
            name: dnsName,
            type: "SOA",
            ttl: 21600,
            rrdatas: [
              "ns-cloud-a1.googledomains.com. cloud-dns-hostmaster.google.com. 1 21600 3600 259200 300",
            ],
          },
        ],
      };
    }
  }

  zone(project: string, name: string): DnsZone {
    const z = this.state().dns.zones[`${project}/${name}`];
    if (!z) throw gcpErrors.notFound(`projects/${project}/managedZones/${name}`);
    return z;
  }

  zoneJson(z: DnsZone): Record<string, unknown> {
    return {
      kind: "dns#managedZone",
      name: z.name,
      dnsName: z.dnsName,
      id: z.id,
      visibility: z.visibility,
      description: "",
      nameServers: ["ns-cloud-a1.googledomains.com.", "ns-cloud-a2.googledomains.com."],
    };
  }

  private zones(project: string, q: URLSearchParams): HttpResponse {
    const dnsName = q.get("dnsName");
    const managedZones = Object.values(this.state().dns.zones)
      .filter((z) => z.project === project && (!dnsName || z.dnsName === fqdn(dnsName)))
      .map((z) => this.zoneJson(z));
    return json(200, { kind: "dns#managedZonesListResponse", managedZones });
  }

  private rrsets(project: string, zone: string, q: URLSearchParams): HttpResponse {
    const z = this.zone(project, zone);
    const name = q.get("name");
    const type = q.get("type");
    const rrsets = z.rrsets
      .filter((r) => (!name || r.name === fqdn(name)) && (!type || r.type === type))
      .map((r) => ({ kind: "dns#resourceRecordSet", ...r }));
    return json(200, { kind: "dns#resourceRecordSetsListResponse", rrsets });
  }

  private change(project: string, zone: string, body: Record<string, unknown>): HttpResponse {
    const z = this.zone(project, zone);
    const parse = (list: unknown, field: string): RRSet[] =>
      ((list as Record<string, unknown>[] | undefined) ?? []).map((r, i) => {
        const name = fqdn(String(r.name ?? ""));
        if (!name.endsWith(z.dnsName))
          throw gcpErrors.invalid(
            `Invalid value for 'entity.change.${field}[${i}].name': '${name}' is not in zone ${z.dnsName}`,
          );
        const rrdatas = (r.rrdatas as string[] | undefined) ?? [];
        if (rrdatas.length === 0)
          throw gcpErrors.invalid(`The 'entity.change.${field}[${i}].rrdata' field is required`);
        return { name, type: String(r.type ?? "").toUpperCase(), ttl: Number(r.ttl ?? 300), rrdatas };
      });
    const additions = parse(body.additions, "additions");
    const deletions = parse(body.deletions, "deletions");
    const same = (a: RRSet, b: RRSet) => a.name === b.name && a.type === b.type;
    let next = [...z.rrsets];
    for (const [i, d] of deletions.entries()) {
      const found = next.find((r) => same(r, d));
      if (!found) throw gcpErrors.notFound(`entity.change.deletions[${i}]`);
      if (found.ttl !== d.ttl || [...found.rrdatas].sort().join() !== [...d.rrdatas].sort().join())
        throw new GcpError(
          412,
          "conditionNotMet",
          `Precondition not met for 'entity.change.deletions[${i}]'`,
        );
      next = next.filter((r) => !same(r, d));
    }
    for (const [i, a] of additions.entries()) {
      if (next.some((r) => same(r, a)))
        throw new GcpError(
          409,
          "alreadyExists",
          `The resource 'entity.change.additions[${i}]' named '${a.name} (${a.type})' already exists`,
        );
      next.push(a);
    }
    z.rrsets = next;
    const now = this.ctx.now();
    const change: DnsChange = {
      project,
      zone,
      id: String(Object.values(this.state().dns.changes).filter((c) => c.zone === zone).length + 1),
      startAt: now,
      doneAt: now + Math.round(30_000 * this.ctx.timeScale),
      additions,
      deletions,
    };
    this.state().dns.changes[`${project}/${zone}/${change.id}`] = change;
    return json(200, this.changeJson(change));
  }

  private getChange(project: string, zone: string, id: string): HttpResponse {
    this.zone(project, zone);
    const c = this.state().dns.changes[`${project}/${zone}/${id}`];
    if (!c) throw gcpErrors.notFound(`changes/${id}`);
    return json(200, this.changeJson(c));
  }

  changeJson(c: DnsChange): Record<string, unknown> {
    return {
      kind: "dns#change",
      id: c.id,
      status: this.ctx.now() >= c.doneAt ? "done" : "pending",
      startTime: new Date(c.startAt).toISOString(),
      additions: c.additions.map((r) => ({ kind: "dns#resourceRecordSet", ...r })),
      deletions: c.deletions.map((r) => ({ kind: "dns#resourceRecordSet", ...r })),
    };
  }

  /** Whether every change that touched this name in the zone is done (the inventory's record state). */
  settled(z: DnsZone, name: string): boolean {
    const now = this.ctx.now();
    return Object.values(this.state().dns.changes)
      .filter((c) => c.project === z.project && c.zone === z.name)
      .filter((c) => [...c.additions, ...c.deletions].some((r) => r.name === name))
      .every((c) => now >= c.doneAt);
  }
}

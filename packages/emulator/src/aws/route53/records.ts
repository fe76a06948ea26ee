/**
 * Route 53 record sets: ChangeResourceRecordSets (all-or-nothing batches with the real error messages),
 * ListResourceRecordSets, GetChange.
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html
 */
import { asArray, type XmlNode, xlist } from "../../xml.js";
import { AwsError } from "../kernel/errors.js";
import {
  compareRecords,
  fqdn,
  type HostedZone,
  node,
  type R53Call,
  type R53Result,
  type RecordSet,
  stripPrefix,
  txt,
} from "./model.js";
import type { Route53Service } from "./service.js";

export const recordOps = (svc: Route53Service): Record<string, (c: R53Call) => R53Result> => ({
  ChangeResourceRecordSets: ({ params, body, now }) => changeRecords(svc, svc.zone(params.Id!), body, now),

  ListResourceRecordSets: ({ params, query }) => {
    const z = svc.zone(params.Id!);
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
          page.map((r) => svc.recordOut(r)),
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
    const c = svc.state.changes[params.Id!];
    if (!c) throw new AwsError("NoSuchChange", `A change with the specified change ID does not exist.`, 404);
    return { root: "GetChangeResponse", body: { ChangeInfo: svc.changeOut(c, now) } };
  },
});

export function readRecord(n: Record<string, XmlNode | XmlNode[]>): RecordSet {
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

export function changeRecords(
  svc: Route53Service,
  z: HostedZone,
  body: Record<string, XmlNode | XmlNode[]>,
  now: number,
): R53Result {
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
    const rs = readRecord(node(c.ResourceRecordSet) ?? {});
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
    checkValues(rs, errors);
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
      errors.push(`RRSet of type CNAME with DNS name ${rs.name} is not permitted at apex in zone ${z.name}`);
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
      const problem = checkAlias(svc, z, rs, records);
      if (problem) {
        errors.push(problem);
        continue;
      }
    }
    if (idx >= 0) records[idx] = rs;
    else records.push(rs);
  }
  if (errors.length) throw new AwsError("InvalidChangeBatch", `[${errors.join(", ")}]`);
  const change = svc.newChange(now, txt(batch.Comment));
  const touched = new Set(
    changes.map((c) => {
      const rs = node(c.ResourceRecordSet) ?? {};
      return `${fqdn(txt(rs.Name) ?? "")}|${txt(rs.Type)}`;
    }),
  );
  for (const r of records) if (touched.has(`${r.name}|${r.type}`)) r.changeId = change.id;
  z.records = records;
  return { root: "ChangeResourceRecordSetsResponse", body: { ChangeInfo: svc.changeOut(change, now) } };
}

export function checkValues(rs: RecordSet, errors: string[]): void {
  const ipv4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
  for (const val of rs.values ?? []) {
    // Value formats per type (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/ResourceRecordTypes.html).
    if (rs.type === "A" && !ipv4.test(val))
      errors.push(`ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '${val}'`);
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
export function checkAlias(
  svc: Route53Service,
  z: HostedZone,
  rs: RecordSet,
  records: RecordSet[],
): string | undefined {
  const a = rs.alias!;
  const miss = `Tried to create an alias that targets ${a.dnsName}, type ${rs.type} in zone ${a.hostedZoneId}, but the alias target name does not lie within the target zone`;
  if (a.hostedZoneId === z.id) {
    return records.some((r) => r.name === a.dnsName) ? undefined : miss;
  }
  const target = a.dnsName.replace(/^dualstack\./, "").replace(/\.$/, "");
  // The alias must name the zone the load balancer's DNS name lives in, its CanonicalHostedZoneId
  // (https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html); the hosted zone
  // of another region or LB type is refused like a name outside the zone.
  const lbZone = svc.lookups.loadBalancers.canonicalZoneOf(target);
  if (lbZone !== undefined) return a.hostedZoneId === lbZone ? undefined : miss;
  const elbZones = /\.elb\.|elb\.amazonaws\.com$/.test(target);
  return elbZones ? miss : undefined;
}

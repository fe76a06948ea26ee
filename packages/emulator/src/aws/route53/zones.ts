/**
 * Route 53 hosted zones: create (CallerReference idempotency), get, delete, list, count, tags.
 */
import { asArray, type XmlNode, xlist } from "../../xml.js";
import { UPPER_ALNUM } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { compareRecords, fqdn, node, type R53Call, type R53Result, reversedKey, txt } from "./model.js";
import type { Route53Service } from "./service.js";

export const zoneOps = (svc: Route53Service): Record<string, (c: R53Call) => R53Result> => ({
  GetHostedZoneCount: () => ({
    root: "GetHostedZoneCountResponse",
    body: { HostedZoneCount: Object.keys(svc.state.zones).length },
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
    const existingId = svc.state.callerReferences[ref];
    if (existingId) {
      const z = svc.state.zones[existingId];
      // CallerReference makes retries safe: the same request returns the zone it created; a different
      // request with a used reference is HostedZoneAlreadyExists (CreateHostedZone reference).
      if (z && z.name === name && z.privateZone === privateZone && z.comment === comment) {
        const c = svc.newChange(z.createdAt);
        return svc.createdZone(z, c, now);
      }
      throw new AwsError(
        "HostedZoneAlreadyExists",
        `A hosted zone has already been created with the specified caller reference.`,
        409,
      );
    }
    const id = `Z0${svc.ctx.rng.chars(19, UPPER_ALNUM)}`;
    const z = svc.newZone(id, name, ref, privateZone, false, now);
    z.comment = comment;
    if (vpcNode) z.vpc = { region: txt(vpcNode.VPCRegion) ?? "us-east-1", id: txt(vpcNode.VPCId) ?? "" };
    svc.state.zones[id] = z;
    svc.state.callerReferences[ref] = id;
    const c = svc.newChange(now);
    return svc.createdZone(z, c, now);
  },

  GetHostedZone: ({ params }) => {
    const z = svc.zone(params.Id!);
    return {
      root: "GetHostedZoneResponse",
      body: {
        HostedZone: svc.zoneOut(z),
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
    const z = svc.zone(params.Id!);
    if (z.records.some((r) => !(r.name === z.name && (r.type === "SOA" || r.type === "NS")))) {
      // https://docs.aws.amazon.com/Route53/latest/APIReference/API_DeleteHostedZone.html (HostedZoneNotEmpty)
      throw new AwsError(
        "HostedZoneNotEmpty",
        "The specified hosted zone contains non-required resource record sets and so cannot be deleted.",
        400,
      );
    }
    delete svc.state.zones[z.id];
    return {
      root: "DeleteHostedZoneResponse",
      body: { ChangeInfo: svc.changeOut(svc.newChange(now), now) },
    };
  },

  ListHostedZones: ({ query }) => {
    const zones = Object.values(svc.state.zones).sort((a, b) => (a.id < b.id ? -1 : 1));
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
          page.map((z) => svc.zoneOut(z)),
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
    const zones = Object.values(svc.state.zones).sort((a, b) =>
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
          page.map((z) => svc.zoneOut(z)),
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

  ListTagsForResource: ({ params }) => {
    const tags = svc.tagsOf(params.ResourceType!, params.ResourceId!);
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
    const tags = svc.tagsOf(params.ResourceType!, params.ResourceId!);
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
});

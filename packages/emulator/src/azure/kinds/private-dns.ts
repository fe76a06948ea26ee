/**
 * Microsoft.Network private DNS zones and their virtual network links (swagger: privatedns/2024-06-01), and
 * public DNS zones with their A record sets (dns/2018-05-01: record sets carry `metadata`, not tags, and
 * `TTL`/`ARecords` are capitalised).
 */
import { armErrors } from "../arm.js";
import { arr, type Body, num, obj, ref, tags } from "../check.js";
import type { Kind } from "../model.js";
import { VNET } from "./network.js";

export const PRIVATE_ZONE = "Microsoft.Network/privateDnsZones";
const LINK = `${PRIVATE_ZONE}/virtualNetworkLinks`;
export const DNS_ZONE = "Microsoft.Network/dnszones";
const A_RECORD = `${DNS_ZONE}/A`;

/** Zone names: 2-34 labels of letters, digits, `_` and `-`, at most 253 characters. */
const zoneName = (n: string): string | undefined => {
  const labels = n.split(".");
  return n.length <= 253 &&
    labels.length >= 2 &&
    labels.length <= 34 &&
    labels.every((l) => /^[A-Za-z0-9_-]{1,63}$/.test(l))
    ? undefined
    : "use 2 to 34 labels of letters, digits, underscores and hyphens";
};

export const privateDnsZones: Kind = {
  type: PRIVATE_ZONE,
  createMs: 20_000,
  deleteMs: 20_000,
  putStyle: "accepted",
  deleteStyle: "accepted",
  nameRule: zoneName,
  put(body) {
    if (String(body.location ?? "").toLowerCase() !== "global")
      throw armErrors.invalid(
        "The location of a private DNS zone must be 'global'.",
        "location",
        "InvalidLocation",
      );
    return {
      location: "global",
      tags: tags(body),
      properties: { numberOfRecordSets: 1, maxNumberOfRecordSets: 25_000 },
    };
  },
  beforeDelete(r, ctx) {
    if (ctx.list(LINK, r.id).length > 0)
      throw armErrors.conflict(
        "CannotDeleteResource",
        `Can not delete resource before nested resources are deleted: the private DNS zone ${r.name} still has virtual network links.`,
      );
  },
};

export const virtualNetworkLinks: Kind = {
  type: LINK,
  createMs: 20_000,
  deleteMs: 20_000,
  putStyle: "accepted",
  deleteStyle: "accepted",
  nameRule: (n) =>
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]$/.test(n)
      ? undefined
      : "use 2 to 80 letters, digits, underscores, periods and hyphens",
  put(body, ctx) {
    const p = obj(body, "properties");
    const vnet = ref(p, "virtualNetwork", VNET, ctx.get)!;
    const zone = ctx.path.id.split("/").slice(0, -2).join("/");
    const dup = ctx
      .list(LINK, zone)
      .find(
        (l) =>
          l.id.toLowerCase() !== ctx.path.id.toLowerCase() &&
          String((l.properties.virtualNetwork as Body).id).toLowerCase() === vnet.toLowerCase(),
      );
    if (dup)
      throw armErrors.conflict(
        "Conflict",
        `A virtual network cannot be linked to the same zone twice (link ${dup.name}).`,
      );
    return {
      location: "global",
      tags: tags(body),
      properties: {
        virtualNetwork: { id: vnet },
        registrationEnabled: p.registrationEnabled === true,
        virtualNetworkLinkState: "Completed",
      },
    };
  },
};

export const dnsZones: Kind = {
  type: DNS_ZONE,
  createMs: 0,
  deleteMs: 0,
  putStyle: "sync",
  deleteStyle: "location",
  nameRule: zoneName,
  put: (body) => ({
    location: "global",
    tags: tags(body),
    properties: { zoneType: "Public", maxNumberOfRecordSets: 10_000 },
  }),
};

export const aRecords: Kind = {
  type: A_RECORD,
  createMs: 0,
  deleteMs: 0,
  putStyle: "sync",
  deleteStyle: "sync",
  nameRule: (n) =>
    n === "@" || zoneName(`${n}.x`) === undefined
      ? undefined
      : "use labels of letters, digits, underscores and hyphens",
  put(body, ctx) {
    const p = obj(body, "properties");
    const ttl = num(p, "TTL", true) ?? 3600;
    const records = arr(p, "ARecords").map((a) => {
      const ip = String(a.ipv4Address ?? "");
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip))
        throw armErrors.invalid(`'${ip}' is not an IPv4 address.`, "ARecords", "BadRequest");
      return { ipv4Address: ip };
    });
    const zone = ctx.path.id.split("/").slice(0, -2).join("/");
    const zoneName = zone.split("/").at(-1);
    const name = ctx.path.names.at(-1)!;
    return {
      properties: {
        metadata: (obj(p, "metadata") as Record<string, string>) ?? {},
        TTL: ttl,
        ARecords: records,
        fqdn: `${name === "@" ? "" : `${name}.`}${zoneName}.`,
      },
    };
  },
};

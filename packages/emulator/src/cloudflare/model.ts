/** The emulated Cloudflare account: zones and their DNS records, as persisted. */
import type { CloudflarePlan } from "../types.js";

export interface CfZone {
  /** 32 hex characters, like real zone ids. */
  id: string;
  name: string;
  plan: CloudflarePlan;
  createdAt: number;
}

export interface CfRecord {
  id: string;
  zoneId: string;
  /** Fully qualified, lower case, no trailing dot. */
  name: string;
  type: string;
  content: string;
  ttl: number;
  proxied: boolean;
  comment: string | null;
  tags: string[];
  createdAt: number;
  modifiedAt: number;
  commentModifiedAt?: number;
  tagsModifiedAt?: number;
}

export interface CloudflareState {
  version: 1;
  accountId: string;
  zones: Record<string, CfZone>;
  records: Record<string, CfRecord>;
}

/** Plan names and ids as the zones API reports them (`plan.legacy_id`, `plan.name`). */
export const PLAN_INFO: Readonly<Record<CloudflarePlan, { legacyId: string; name: string; price: number }>> =
  {
    free: { legacyId: "free", name: "Free Website", price: 0 },
    pro: { legacyId: "pro", name: "Pro Website", price: 25 },
    business: { legacyId: "business", name: "Business Website", price: 250 },
    enterprise: { legacyId: "enterprise", name: "Enterprise Website", price: 0 },
  };

/** `created_on`-style timestamps. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** A zone as `GET /zones` returns it. */
export function zoneJson(z: CfZone, accountId: string): Record<string, unknown> {
  const plan = PLAN_INFO[z.plan];
  return {
    id: z.id,
    name: z.name,
    status: "active",
    paused: false,
    type: "full",
    development_mode: 0,
    name_servers: ["ada.ns.cloudflare.com", "lee.ns.cloudflare.com"],
    original_name_servers: null,
    original_registrar: null,
    original_dnshost: null,
    created_on: iso(z.createdAt),
    modified_on: iso(z.createdAt),
    activated_on: iso(z.createdAt),
    meta: {
      step: 2,
      custom_certificate_quota: 0,
      page_rule_quota: 3,
      phishing_detected: false,
      cdn_only: false,
      dns_only: false,
      foundation_dns: false,
    },
    owner: { id: null, type: "user", email: null },
    account: { id: accountId, name: "k3sinfra emulator" },
    permissions: ["#dns_records:edit", "#dns_records:read", "#zone:read"],
    plan: {
      id: `${z.plan}-plan`,
      name: plan.name,
      price: plan.price,
      currency: "USD",
      frequency: z.plan === "free" ? "" : "monthly",
      is_subscribed: z.plan !== "free",
      can_subscribe: z.plan !== "enterprise",
      legacy_id: plan.legacyId,
      legacy_discount: false,
      externally_managed: false,
    },
  };
}

/** Whether Cloudflare can proxy a record: A/AAAA/CNAME to a public target. */
export function proxiable(r: Pick<CfRecord, "type" | "content">): boolean {
  if (r.type === "CNAME") return true;
  if (r.type === "A") return !isPrivateIPv4(r.content);
  if (r.type === "AAAA") return !/^(::1$|fc|fd|fe80)/i.test(r.content);
  return false;
}

/** A DNS record as `GET /dns_records` returns it. */
export function recordJson(r: CfRecord): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    content: r.content,
    proxiable: proxiable(r),
    proxied: r.proxied,
    ttl: r.ttl,
    settings: {},
    meta: {},
    comment: r.comment,
    tags: [...r.tags],
    created_on: iso(r.createdAt),
    modified_on: iso(r.modifiedAt),
    ...(r.commentModifiedAt ? { comment_modified_on: iso(r.commentModifiedAt) } : {}),
    ...(r.tagsModifiedAt ? { tags_modified_on: iso(r.tagsModifiedAt) } : {}),
  };
}

/** Dotted-quad IPv4 with each part 0-255. */
export function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

/** IPv6 in any of its textual forms (RFC 4291 §2.2), without zone ids. */
export function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(":")) return false;
  const halves = s.split("::");
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const all = halves.flatMap(groups);
  const last = all.at(-1) ?? "";
  const v4 = last.includes(".");
  if (v4 && !isIPv4(last)) return false;
  const hex = v4 ? all.slice(0, -1) : all;
  if (!hex.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const width = hex.length + (v4 ? 2 : 0);
  return halves.length === 2 ? width < 8 : width === 8;
}

/** RFC 1918, loopback and link-local ranges, which Cloudflare will not proxy to. */
export function isPrivateIPv4(ip: string): boolean {
  const [a = 0, b = 0] = ip.split(".").map(Number);
  return (
    a === 10 ||
    a === 127 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254)
  );
}

/** A host name: dot-separated labels of letters, digits, hyphens and underscores. */
export function isHostname(s: string): boolean {
  const n = s.replace(/\.$/, "");
  return (
    n.length > 0 &&
    n.length <= 253 &&
    n.split(".").every((l) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(l))
  );
}

/** Record types the API accepts (the client's enum). */
export const RECORD_TYPES = new Set([
  "A",
  "AAAA",
  "CAA",
  "CERT",
  "CNAME",
  "DNSKEY",
  "DS",
  "HTTPS",
  "LOC",
  "MX",
  "NAPTR",
  "NS",
  "OPENPGPKEY",
  "PTR",
  "SMIMEA",
  "SRV",
  "SSHFP",
  "SVCB",
  "TLSA",
  "TXT",
  "URI",
]);

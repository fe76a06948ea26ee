/**
 * DNS record rules: body validation, the same-name conflicts, and the list filters.
 * API reference: https://developers.cloudflare.com/api/resources/dns/subresources/records/
 */
import { cfErrors } from "./envelope.js";
import { type CfRecord, type CfZone, isHostname, isIPv4, isIPv6, proxiable, RECORD_TYPES } from "./model.js";

/** The settable part of a record, after validation. */
export type RecordInput = Pick<
  CfRecord,
  "name" | "type" | "content" | "ttl" | "proxied" | "comment" | "tags"
>;

const PROXIABLE_TYPES = new Set(["A", "AAAA", "CNAME"]);

/**
 * Record names are fully qualified; a relative name gets the zone appended and `@` is the apex, as in the
 * dashboard (https://developers.cloudflare.com/dns/manage-dns-records/how-to/create-dns-records/).
 */
export function fqdnIn(zone: CfZone, raw: string): string {
  const n = raw.trim().toLowerCase().replace(/\.$/, "");
  if (n === "@" || n === "") return zone.name;
  return n === zone.name || n.endsWith(`.${zone.name}`) ? n : `${n}.${zone.name}`;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Parses a JSON request body into an object, or fails as the API does. */
export function parseBody(body: string): Record<string, unknown> {
  try {
    const v = JSON.parse(body || "{}") as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through to the API's answer
  }
  throw cfErrors.badBody();
}

/** Comment and tag limits per plan: https://developers.cloudflare.com/dns/manage-dns-records/reference/record-attributes/ */
function checkAttributes(zone: CfZone, comment: string | null, tags: string[]): void {
  const max = zone.plan === "free" ? 100 : 500;
  if (comment !== null && /[\r\n]/.test(comment)) throw cfErrors.commentNewline();
  if (comment !== null && [...comment].length > max) throw cfErrors.commentTooLong(max);
  if (tags.length === 0) return;
  if (zone.plan === "free") throw cfErrors.tagsNotAvailable();
  if (tags.length > 20) throw cfErrors.tooManyTags();
  for (const t of tags) {
    const i = t.indexOf(":");
    const name = i < 0 ? t : t.slice(0, i);
    const value = i < 0 ? "" : t.slice(i + 1);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(name) || [...value].length > 100 || /[\r\n]/.test(value))
      throw cfErrors.badTag(t);
  }
}

/**
 * Validates a full record (POST, PUT, or PATCH merged onto the stored one) the way the API does:
 * type, content by type, TTL 1 or 60-86400 (30 on Enterprise), proxying only for proxiable A/AAAA/CNAME.
 * TTL rule: https://developers.cloudflare.com/api/resources/dns/subresources/records/methods/create/
 */
export function validateRecord(zone: CfZone, body: Record<string, unknown>): RecordInput {
  const type = str(body.type)?.toUpperCase() ?? "";
  if (!RECORD_TYPES.has(type)) throw cfErrors.badType(String(body.type ?? ""));
  const rawName = str(body.name);
  if (rawName === undefined) throw cfErrors.badBody();
  const name = fqdnIn(zone, rawName);
  if (!isHostname(name.replace(/^\*\./, "x."))) throw cfErrors.badName(rawName, zone.name);
  const content = (str(body.content) ?? "").trim();
  if (type === "A" && !isIPv4(content)) throw cfErrors.badIPv4();
  if (type === "AAAA" && !isIPv6(content)) throw cfErrors.badIPv6();
  if (type === "CNAME" && (!isHostname(content) || content.replace(/\.$/, "").toLowerCase() === name))
    throw cfErrors.badHostname();
  const ttl = body.ttl === undefined ? 1 : body.ttl;
  const minTtl = zone.plan === "enterprise" ? 30 : 60;
  if (typeof ttl !== "number" || !Number.isInteger(ttl) || (ttl !== 1 && (ttl < minTtl || ttl > 86400)))
    throw cfErrors.badTtl(minTtl);
  const proxied = body.proxied === true;
  if (body.proxied !== undefined && typeof body.proxied !== "boolean") throw cfErrors.badBody();
  if (proxied && !PROXIABLE_TYPES.has(type)) throw cfErrors.notProxiable();
  if (proxied && !proxiable({ type, content })) throw cfErrors.proxyTarget(content);
  const comment = body.comment === undefined || body.comment === null ? null : str(body.comment);
  if (comment === undefined) throw cfErrors.badBody();
  const tags = body.tags === undefined || body.tags === null ? [] : body.tags;
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === "string")) throw cfErrors.badBody();
  checkAttributes(zone, comment === "" ? null : comment, tags);
  return {
    type,
    name,
    content: type === "CNAME" ? content.replace(/\.$/, "").toLowerCase() : content,
    ttl,
    proxied,
    comment: comment === "" ? null : comment,
    tags: [...tags],
  };
}

/**
 * The same-name rules: a CNAME cannot share its name with A/AAAA/CNAME records (81053), an A/AAAA cannot
 * join a CNAME (81054), and a record equal in name, type and content to another is refused (81058 when every
 * setting matches, 81057 otherwise). https://developers.cloudflare.com/dns/manage-dns-records/troubleshooting/records-with-same-name/
 */
export function checkConflicts(input: RecordInput, others: readonly CfRecord[]): void {
  const same = others.filter((r) => r.name === input.name);
  if (input.type === "CNAME" && same.some((r) => PROXIABLE_TYPES.has(r.type))) throw cfErrors.hostTaken();
  if ((input.type === "A" || input.type === "AAAA") && same.some((r) => r.type === "CNAME"))
    throw cfErrors.cnameTaken();
  const twin = same.find(
    (r) => r.type === input.type && r.content.toLowerCase() === input.content.toLowerCase(),
  );
  if (!twin) return;
  const identical =
    twin.ttl === input.ttl &&
    twin.proxied === input.proxied &&
    twin.comment === input.comment &&
    twin.tags.join("\n") === input.tags.join("\n");
  throw identical ? cfErrors.identicalRecord() : cfErrors.recordExists();
}

type Pred = (r: CfRecord) => boolean;

/** `exact`/`contains`/`startswith`/`endswith` string operators; every filter is case-insensitive. */
const stringOp = (op: string, want: string): ((have: string) => boolean) | undefined => {
  const w = want.toLowerCase();
  switch (op) {
    case "exact":
      return (h) => h.toLowerCase() === w;
    case "contains":
      return (h) => h.toLowerCase().includes(w);
    case "startswith":
      return (h) => h.toLowerCase().startsWith(w);
    case "endswith":
      return (h) => h.toLowerCase().endsWith(w);
    default:
      return undefined;
  }
};

const splitTag = (t: string): [string, string] => {
  const i = t.indexOf(":");
  return i < 0 ? [t.toLowerCase(), ""] : [t.slice(0, i).toLowerCase(), t.slice(i + 1)];
};

/** One tag filter: `tag.present=name`, `tag.absent=name`, `tag.exact=name:value`, `tag.contains=name:value`, … */
function tagPred(op: string, arg: string): Pred | undefined {
  if (op === "present" || op === "absent") {
    const name = arg.toLowerCase();
    const has: Pred = (r) => r.tags.some((t) => splitTag(t)[0] === name);
    return op === "present" ? has : (r) => !has(r);
  }
  const [name, value] = splitTag(arg);
  const test = stringOp(op, value);
  if (!test) return undefined;
  return (r) => r.tags.some((t) => splitTag(t)[0] === name && test(splitTag(t)[1]));
}

/**
 * The list filters the client sends with dot notation (`name.exact=…`, `comment.contains=…`, `tag.exact=k:v`),
 * the legacy bare `name`/`content`/`comment` (exact), `type` and `proxied`; combined by `match` (all/any),
 * tag filters first by `tag_match`.
 * https://developers.cloudflare.com/api/resources/dns/subresources/records/methods/list/
 */
export function recordFilter(q: URLSearchParams): Pred {
  const preds: Pred[] = [];
  const tagPreds: Pred[] = [];
  for (const [key, value] of q) {
    const [field, op = "exact"] = key.split(".", 2) as [string, string | undefined];
    if (field === "type") preds.push((r) => r.type === value.toUpperCase());
    else if (field === "proxied") preds.push((r) => r.proxied === (value === "true"));
    else if (field === "name" || field === "content") {
      const test = stringOp(op, field === "name" ? value.replace(/\.$/, "") : value);
      if (test) preds.push((r) => test(field === "name" ? r.name : r.content));
    } else if (field === "comment") {
      if (op === "present") preds.push((r) => r.comment !== null);
      else if (op === "absent") preds.push((r) => r.comment === null);
      else {
        const test = stringOp(op, value);
        if (test) preds.push((r) => r.comment !== null && test(r.comment));
      }
    } else if (field === "tag") {
      const p = tagPred(op, value);
      if (p) tagPreds.push(p);
    }
  }
  if (tagPreds.length > 0) {
    const any = q.get("tag_match") === "any";
    preds.push((r) => (any ? tagPreds.some((p) => p(r)) : tagPreds.every((p) => p(r))));
  }
  const any = q.get("match") === "any";
  if (preds.length === 0) return () => true;
  return (r) => (any ? preds.some((p) => p(r)) : preds.every((p) => p(r)));
}

/** Sorts by `order` (type, name, content, ttl, proxied; default name then type) and `direction`. */
export function recordOrder(q: URLSearchParams): (a: CfRecord, b: CfRecord) => number {
  const field = q.get("order") ?? "name";
  const sign = q.get("direction") === "desc" ? -1 : 1;
  const key = (r: CfRecord): string | number | boolean =>
    field === "ttl"
      ? r.ttl
      : field === "proxied"
        ? r.proxied
        : field === "type"
          ? r.type
          : field === "content"
            ? r.content
            : r.name;
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka !== kb) return (ka < kb ? -1 : 1) * sign;
    return `${a.type}/${a.content}/${a.id}` < `${b.type}/${b.content}/${b.id}` ? -1 : 1;
  };
}

import { TAG_CLUSTER, TAG_MANAGED_BY, type Tags } from "@k3sinfra/core";

/**
 * Cloudflare DNS records have no key/value tags on every plan, so ownership is written into the record's
 * `comment` (`k3sinfra:cluster=<name> k3sinfra:resource=<id>`, at most 100 characters on the Free plan) and,
 * on paid plans, also into record tags (`k3sinfra-cluster:<name>`: tag names allow no `:`).
 * https://developers.cloudflare.com/dns/manage-dns-records/reference/record-attributes/
 */
const PREFIX = "k3sinfra:";

/** The ownership comment for a resource's tags; `managed-by` is implied by the `k3sinfra:` keys. */
export function ownershipComment(tags: Tags): string {
  return Object.entries(tags)
    .filter(([k]) => k !== TAG_MANAGED_BY && k.startsWith(PREFIX))
    .sort(([a], [b]) => (a === TAG_CLUSTER ? -1 : b === TAG_CLUSTER ? 1 : a.localeCompare(b)))
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

/** Record tags (`name:value`) for a resource's tags, for zones whose plan has record tags. */
export function ownershipTags(tags: Tags): string[] {
  return Object.entries(tags)
    .filter(([k]) => k.startsWith(PREFIX))
    .map(([k, v]) => `${k.replace(":", "-")}:${v}`)
    .sort();
}

/** Reads ownership back from a record's comment and tags; empty when k3sinfra did not write it. */
export function ownershipOf(record: {
  comment?: string | null;
  tags?: readonly string[] | null;
}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of record.tags ?? []) {
    const i = t.indexOf(":");
    const name = i < 0 ? t : t.slice(0, i);
    if (i > 0 && name.toLowerCase().startsWith("k3sinfra-"))
      out[`${PREFIX}${name.slice("k3sinfra-".length).toLowerCase()}`] = t.slice(i + 1);
  }
  for (const word of (record.comment ?? "").split(/\s+/)) {
    const i = word.indexOf("=");
    if (i > 0 && word.startsWith(PREFIX)) out[word.slice(0, i)] = word.slice(i + 1);
  }
  if (Object.keys(out).length > 0) out[TAG_MANAGED_BY] = "k3sinfra";
  return out;
}

/** Whether a record carries every given tag. */
export const carries = (record: Parameters<typeof ownershipOf>[0], tags: Tags): boolean => {
  const have = ownershipOf(record);
  return Object.entries(tags).every(([k, v]) => have[k] === v);
};

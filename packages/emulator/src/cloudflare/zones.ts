/**
 * `GET /zones` filters: `name` with an optional operator prefix (`equal` by default, `not_equal`,
 * `starts_with`, `ends_with`, `contains`, and their `_case_sensitive` forms), `status`, `account.id`,
 * `account.name`, `order`/`direction`. https://developers.cloudflare.com/api/resources/zones/methods/list/
 */
import type { CfZone } from "./model.js";

const OPERATORS = [
  "equal",
  "not_equal",
  "starts_with",
  "ends_with",
  "contains",
  "starts_with_case_sensitive",
  "ends_with_case_sensitive",
  "contains_case_sensitive",
] as const;

/** The zone-name test for a `name` query value. */
function nameTest(raw: string): (name: string) => boolean {
  const i = raw.indexOf(":");
  const op = i > 0 ? (OPERATORS as readonly string[]).find((o) => o === raw.slice(0, i)) : undefined;
  const arg = op ? raw.slice(i + 1) : raw;
  const exact = op?.endsWith("_case_sensitive") ?? false;
  const norm = (s: string) => (exact ? s : s.toLowerCase());
  const want = norm(arg.replace(/\.$/, ""));
  switch (op?.replace(/_case_sensitive$/, "") ?? "equal") {
    case "not_equal":
      return (n) => norm(n) !== want;
    case "starts_with":
      return (n) => norm(n).startsWith(want);
    case "ends_with":
      return (n) => norm(n).endsWith(want);
    case "contains":
      return (n) => norm(n).includes(want);
    default:
      return (n) => norm(n) === want;
  }
}

/** Zones matching the query (all of them active), sorted by `order` (default name) and `direction`. */
export function filterZones(zones: readonly CfZone[], q: URLSearchParams, accountId: string): CfZone[] {
  const preds: ((z: CfZone) => boolean)[] = [];
  const name = q.get("name");
  if (name !== null) {
    const test = nameTest(name);
    preds.push((z) => test(z.name));
  }
  const status = q.get("status");
  if (status !== null) preds.push(() => status === "active");
  const account = q.get("account.id");
  if (account !== null) preds.push(() => account === accountId);
  const accountName = q.get("account.name");
  if (accountName !== null) preds.push(() => accountName === "k3sinfra emulator");
  const any = q.get("match") === "any";
  const sign = q.get("direction") === "desc" ? -1 : 1;
  return zones
    .filter((z) => preds.length === 0 || (any ? preds.some((p) => p(z)) : preds.every((p) => p(z))))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) * sign);
}

import type { VerifyCheck, VerifyInput, VerifyResolver } from "./types.js";

const norm = (h: string): string => h.toLowerCase().replace(/\.$/, "");
const codeOf = (e: unknown): string => (e as { code?: string }).code ?? String(e);
// "No such record" answers: the name exists without this type, or not at all.
const EMPTY = new Set(["ENODATA", "ENOTFOUND"]);

async function lookup(fn: () => Promise<string[]>): Promise<string[]> {
  try {
    return await fn();
  } catch (e) {
    if (EMPTY.has(codeOf(e))) return [];
    throw e;
  }
}

/**
 * The hostname points at the LB: a CNAME to one of the expected host names, or A records all among the
 * expected IPs (an alias record resolves to the LB's own addresses, so expected host names are resolved
 * too). https://ranchermanager.docs.rancher.com (infrastructure setup: the DNS record is the Rancher URL).
 */
export async function checkDns(input: VerifyInput, resolver: VerifyResolver): Promise<VerifyCheck> {
  const name = "dns";
  const host = input.hostname;
  let cnames: string[];
  let addresses: string[];
  try {
    [cnames, addresses] = await Promise.all([
      lookup(() => resolver.resolveCname(host)),
      lookup(() => resolver.resolve4(host)),
    ]);
  } catch (e) {
    return { name, status: "fail", detail: `looking up ${host} failed (${codeOf(e)})` };
  }
  if (cnames.length === 0 && addresses.length === 0)
    return {
      name,
      status: "fail",
      detail: `${host} does not resolve; check the DNS record and wait for propagation (TTL)`,
    };
  const wantedHosts = (input.expectedTargets.hostnames ?? []).map(norm);
  const seen = `${cnames.length ? `CNAME ${cnames.map(norm).join(", ")}; ` : ""}A ${addresses.join(", ") || "none"}`;
  const cname = cnames.map(norm).find((c) => wantedHosts.includes(c));
  if (cname) return { name, status: "pass", detail: `${host} is a CNAME to the load balancer ${cname}` };
  const wantedIps = new Set(input.expectedTargets.ips ?? []);
  for (const h of wantedHosts)
    for (const ip of await lookup(() => resolver.resolve4(h)).catch(() => [])) wantedIps.add(ip);
  if (wantedIps.size === 0 && wantedHosts.length === 0)
    return {
      name,
      status: "skip",
      detail: `${host} resolves (${seen}); no load balancer address to compare with`,
    };
  const expected = [...wantedHosts, ...wantedIps].join(", ");
  if (addresses.length > 0 && addresses.every((a) => wantedIps.has(a)))
    return { name, status: "pass", detail: `${host} resolves to the load balancer (${seen})` };
  return {
    name,
    status: "fail",
    detail: `${host} resolves to ${seen}, not the load balancer (${expected}); fix the record or wait for the old TTL`,
  };
}

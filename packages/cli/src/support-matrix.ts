/**
 * The support matrix in docs/providers.md, written from the built-in providers' capabilities (data, not prose):
 * what each one offers, so the page cannot drift from what `plan` accepts. A test compares the page with this.
 */
import type { CloudProvider } from "@k3sinfra/core";

const yes = (v: boolean | undefined) => (v ? "yes" : "—");
const list = (items: readonly string[] | undefined) => (items && items.length > 0 ? items.join(", ") : "—");

/** The markdown table, one row per provider, in the order given. */
export function supportMatrix(providers: readonly CloudProvider[]): string {
  const head = [
    "provider",
    "services",
    "load balancer",
    "L7 certificate",
    "datastore",
    "datastore TLS",
    "DNS records",
    "secret store",
    "firewall",
    "regions listed offline",
  ];
  const rows = providers.map((p) => {
    const c = p.capabilities;
    const services = c.services.filter((s) => s !== "secretStore");
    const modes = (c.loadBalancerModes ?? []).map((m) => m.toUpperCase());
    const l7 = modes.includes("L7") ? (c.l7NeedsCertificate ? "given" : "issued") : "—";
    const engines = (c.datastoreEngines ?? []).map((e) => `${e.engine} ${e.versions.join("/")}`);
    return [
      `\`${p.name}\``,
      list(services),
      list(modes),
      l7,
      list(engines),
      c.datastoreTls ?? "—",
      list(c.dnsRecordTypes),
      yes(c.services.includes("secretStore")),
      c.services.includes("network") ? (c.firewall ?? "managed") : "—",
      c.zones ? String(Object.keys(c.zones).length) : "—",
    ];
  });
  // Padded as the repository's formatter (biome) writes markdown tables, so the page stays formatted.
  const widths = head.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

import { createHash } from "node:crypto";
import { type FirewallRule, ProviderError } from "@k3sinfra/core";

/**
 * Google's load balancer and health-check source ranges: health checks of every load balancer and the
 * Google Front Ends of the Application LB come from 35.191.0.0/16 and 130.211.0.0/22; the passthrough NLB's
 * checks from 35.191.0.0/16, 209.85.152.0/22 and 209.85.204.0/22
 * (https://cloud.google.com/load-balancing/docs/health-check-concepts#ip-ranges). A rule "from the load
 * balancer" admits them; client traffic through the passthrough NLB keeps the client's address and is
 * admitted by the client-range rule core adds for L4.
 */
export const GOOGLE_LB_RANGES = ["35.191.0.0/16", "130.211.0.0/22", "209.85.152.0/22", "209.85.204.0/22"];

/**
 * Where IAP TCP forwarding connects from: a rule admitting it lets principals granted
 * `iap.tunnelInstances.accessViaIAP` tunnel to a port, and nobody else
 * (https://cloud.google.com/iap/docs/using-tcp-forwarding#create-firewall-rule).
 */
export const IAP_TCP_RANGE = "35.235.240.0/20";

/** The K3s API port, which `k3sinfra kubeconfig`'s tunnel reaches while 6443 is closed to the outside. */
const API_PORT = 6443;

// Core's port matrix: VXLAN, kubelet and MySQL never open to address ranges (checked where the door opens).
const NEVER_FROM_CIDRS = [
  { protocol: "udp", port: 8472 },
  { protocol: "tcp", port: 10250 },
  { protocol: "tcp", port: 3306 },
];

/** Throws when a rule would open a port that must stay internal to address ranges. */
export function assertSafeRules(rules: readonly FirewallRule[]): void {
  for (const rule of rules) {
    if (!("cidrs" in rule.from)) continue;
    if (
      rule.group === "datastore" ||
      NEVER_FROM_CIDRS.some((n) => n.protocol === rule.protocol && n.port === rule.port)
    )
      throw new ProviderError(
        `Refusing to open ${rule.port}/${rule.protocol} on the ${rule.group} group to address ranges (${rule.from.cidrs.join(", ")}): it must only be reachable from the cluster's own groups.`,
      );
  }
}

/** One VPC firewall rule to have: ingress to the nodes' network tag from one source. */
export interface WantedFirewall {
  readonly name: string;
  readonly sourceTags?: string[];
  readonly sourceRanges?: string[];
  readonly allowed: { IPProtocol: string; ports: string[] }[];
  readonly description: string;
}

/**
 * The firewall rules for the spec's rules. Only rules into the `nodes` group become VPC firewall rules (on
 * the nodes' network tag): the passthrough load balancer has no firewall of its own (its traffic arrives at
 * the nodes), and the datastore is Cloud SQL, reached through its own authorized networks or private IP.
 * One rule per source, its ports grouped by protocol.
 */
export function wantedFirewalls(
  rules: readonly FirewallRule[],
  base: string,
  nodesTag: string,
): WantedFirewall[] {
  const bySource = new Map<string, { source: FirewallRule["from"]; rules: FirewallRule[] }>();
  for (const rule of rules) {
    if (rule.group !== "nodes") continue;
    const key =
      "group" in rule.from ? `group:${rule.from.group}` : `cidrs:${[...rule.from.cidrs].sort().join(",")}`;
    const entry = bySource.get(key) ?? { source: rule.from, rules: [] };
    entry.rules.push(rule);
    bySource.set(key, entry);
  }
  const out: WantedFirewall[] = [];
  for (const [key, { source, rules: group }] of bySource) {
    const allowed = ["tcp", "udp"]
      .map((p) => ({
        IPProtocol: p,
        ports: [...new Set(group.filter((r) => r.protocol === p).map((r) => String(r.port)))].sort(),
      }))
      .filter((a) => a.ports.length > 0);
    const description = group.map((r) => r.description).join("; ");
    if ("group" in source) {
      if (source.group === "nodes")
        out.push({ name: `${base}-internal`, sourceTags: [nodesTag], allowed, description });
      else if (source.group === "loadBalancer")
        out.push({ name: `${base}-from-lb`, sourceRanges: [...GOOGLE_LB_RANGES], allowed, description });
    } else {
      const h = createHash("sha256").update(key).digest("hex").slice(0, 8);
      out.push({ name: `${base}-c${h}`, sourceRanges: [...source.cidrs].sort(), allowed, description });
    }
  }
  // The tunnel `k3sinfra kubeconfig` prints (`gcloud compute start-iap-tunnel`): the API port from IAP only, so
  // reaching it takes the IAM permission above, not an address in `nodes.adminCidrs`.
  out.push({
    name: `${base}-iap`,
    sourceRanges: [IAP_TCP_RANGE],
    allowed: [{ IPProtocol: "tcp", ports: [String(API_PORT)] }],
    description: "K3s API through IAP TCP forwarding (k3sinfra kubeconfig's tunnel)",
  });
  return out;
}

/** The firewall fields compared for drift, normalised (order-independent). */
export interface LiveFirewall {
  name?: string | null;
  sourceTags?: string[] | null;
  sourceRanges?: string[] | null;
  targetTags?: string[] | null;
  allowed?: { IPProtocol?: string | null; I_p_protocol?: string | null; ports?: string[] | null }[] | null;
  direction?: string | null;
  disabled?: boolean | null;
}

const protocolOf = (a: NonNullable<LiveFirewall["allowed"]>[number]) => a.IPProtocol ?? a.I_p_protocol ?? "";

/** One line per (protocol, port, source) a firewall opens: what the digest and the comparison see. */
export const firewallLines = (f: LiveFirewall | WantedFirewall): string[] => {
  const sources = [
    ...(f.sourceTags ?? []).map((t) => `tag:${t}`),
    ...(f.sourceRanges ?? []).map((r) => `cidr:${r}`),
  ];
  const lines: string[] = [];
  for (const a of f.allowed ?? [])
    for (const port of a.ports?.length ? a.ports : ["all"])
      for (const s of sources) lines.push(`${protocolOf(a as never)} ${port} ${s}`);
  return lines.sort();
};

/** Whether a live firewall opens exactly what a wanted one does. */
export const sameFirewall = (live: LiveFirewall, wanted: WantedFirewall): boolean =>
  firewallLines(live).join("\n") === firewallLines(wanted).join("\n");

/** A digest of what every firewall on the nodes' tag opens, so a rule added or changed outside shows as drift. */
export const rulesDigest = (live: readonly LiveFirewall[]): string =>
  createHash("sha256").update(live.flatMap(firewallLines).sort().join("\n")).digest("hex").slice(0, 16);

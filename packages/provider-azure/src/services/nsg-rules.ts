import { createHash } from "node:crypto";
import type { FirewallRule } from "@k3sinfra/core";

/** An NSG security rule as the clients take it (flattened properties). */
export interface NsgRule {
  name: string;
  description: string;
  protocol: "Tcp" | "Udp" | "*";
  access: "Allow" | "Deny";
  direction: "Inbound";
  priority: number;
  sourcePortRange: "*";
  destinationPortRange: string;
  destinationAddressPrefix: "*";
  sourceAddressPrefix?: string;
  sourceAddressPrefixes?: string[];
}

/** The address ranges core's group names stand for on Azure. */
export interface GroupSources {
  /** The node subnet's prefixes: K3s ports are open only from it. */
  readonly nodes: string | readonly string[];
  /** The MySQL delegated subnet's prefixes. */
  readonly datastore: string | readonly string[];
}

/**
 * The Azure form of core's rules for one NSG: `nodes` (with the load balancer's, since a Standard Load
 * Balancer has no firewall of its own and passes client addresses through) or `datastore`. A rule from the
 * load balancer group admits `AzureLoadBalancer` (the health probes' source), and the whole IPv4 range
 * becomes the `Internet` tag. Then a deny of the rest of the VNet at the lowest custom priority, so inside
 * the VNet too only the K3s port matrix is open (the default AllowVnetInBound would admit every port).
 * https://learn.microsoft.com/en-us/azure/virtual-network/network-security-groups-overview#default-security-rules
 * https://learn.microsoft.com/en-us/azure/virtual-network/service-tags-overview#available-service-tags
 */
export function nsgRules(
  rules: readonly FirewallRule[],
  nsg: "nodes" | "datastore",
  sources: GroupSources,
): NsgRule[] {
  const mine = rules.filter((r) =>
    nsg === "nodes" ? r.group === "nodes" || r.group === "loadBalancer" : r.group === "datastore",
  );
  const out: NsgRule[] = [];
  const seen = new Set<string>();
  for (const r of mine) {
    const from =
      "group" in r.from
        ? r.from.group === "loadBalancer"
          ? ["AzureLoadBalancer"]
          : [sources[r.from.group === "nodes" ? "nodes" : "datastore"]].flat()
        : r.from.cidrs.map((c) => (c === "0.0.0.0/0" ? "Internet" : c));
    const key = `${r.protocol}:${r.port}:${[...from].sort().join(",")}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const i = out.length;
    out.push({
      name: `k3s-${r.protocol}-${r.port}-${i}`,
      // Descriptions are at most 140 characters.
      description: r.description.slice(0, 140),
      protocol: r.protocol === "tcp" ? "Tcp" : "Udp",
      access: "Allow",
      direction: "Inbound",
      priority: 100 + i * 10,
      sourcePortRange: "*",
      destinationPortRange: String(r.port),
      destinationAddressPrefix: "*",
      ...(from.length === 1 ? { sourceAddressPrefix: from[0]! } : { sourceAddressPrefixes: from }),
    });
  }
  out.push({
    name: "k3s-deny-vnet-other",
    description: "Nothing else from inside the VNet: only the K3s port matrix",
    protocol: "*",
    access: "Deny",
    direction: "Inbound",
    priority: 4000,
    sourcePortRange: "*",
    destinationPortRange: "*",
    destinationAddressPrefix: "*",
    sourceAddressPrefix: "VirtualNetwork",
  });
  return out;
}

/** The rule fields compared for drift, one normalised line per rule. */
interface LiveRule {
  readonly protocol?: string | undefined;
  readonly access?: string | undefined;
  readonly direction?: string | undefined;
  readonly destinationPortRange?: string | undefined;
  readonly destinationPortRanges?: readonly string[] | undefined;
  readonly sourceAddressPrefix?: string | undefined;
  readonly sourceAddressPrefixes?: readonly string[] | undefined;
}

const line = (nsg: string, r: LiveRule): string =>
  [
    nsg,
    r.direction,
    r.access,
    String(r.protocol).toLowerCase(),
    [r.destinationPortRange, ...(r.destinationPortRanges ?? [])].filter(Boolean).sort().join(","),
    [r.sourceAddressPrefix, ...(r.sourceAddressPrefixes ?? [])].filter(Boolean).sort().join(","),
  ].join(" ");

/** A digest of the rules in place in both NSGs, so a rule changed outside k3sinfra shows as drift. */
export function rulesDigest(live: Readonly<Record<"nodes" | "datastore", readonly LiveRule[]>>): string {
  const lines = [
    ...live.nodes.map((r) => line("nodes", r)),
    ...live.datastore.map((r) => line("datastore", r)),
  ].sort();
  return createHash("sha256").update(lines.join("\n")).digest("hex").slice(0, 16);
}

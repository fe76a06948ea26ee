import { createHash } from "node:crypto";
import type { SecurityGroup } from "@aws-sdk/client-ec2";
import type { FirewallGroup } from "@k3sinfra/core";

/**
 * A digest of the ingress rules actually in place in the three groups, so a rule added, revoked or changed
 * outside k3sinfra shows as drift (`NetworkState.rulesDigest`). Normalised and order-independent: one line
 * per (group, protocol, port range, source); our own groups as sources are named by role, not id, and
 * descriptions are left out (the rule sync does not compare them either).
 */
export function rulesDigest(
  groups: Readonly<Record<FirewallGroup, string>>,
  found: readonly SecurityGroup[],
): string {
  const role = new Map(Object.entries(groups).map(([name, id]) => [id, name]));
  const lines = new Set<string>();
  for (const sg of found) {
    const owner = role.get(sg.GroupId ?? "");
    if (!owner) continue;
    for (const p of sg.IpPermissions ?? []) {
      const base = `${owner} ${p.IpProtocol ?? "-1"} ${p.FromPort ?? -1}-${p.ToPort ?? -1}`;
      for (const g of p.UserIdGroupPairs ?? [])
        lines.add(`${base} group:${role.get(g.GroupId ?? "") ?? g.GroupId}`);
      for (const r of p.IpRanges ?? []) lines.add(`${base} cidr:${r.CidrIp}`);
      for (const r of p.Ipv6Ranges ?? []) lines.add(`${base} cidr6:${r.CidrIpv6}`);
      for (const r of p.PrefixListIds ?? []) lines.add(`${base} pl:${r.PrefixListId}`);
    }
  }
  const text = [...lines].sort().join("\n");
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

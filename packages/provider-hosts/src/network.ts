import { createHash } from "node:crypto";
import {
  describeFirewallRule,
  type FirewallRule,
  type NetworkService,
  type NetworkSpec,
  type NetworkState,
  type ResourceContext,
  type Tags,
} from "@k3sinfra/core";
import { claim, type Hosts, readOwner, release, tagsMatch } from "./hosts.js";

/** One line of the port matrix, as `plan` prints it (core's words) and the hosts' ownership record keeps it. */
export const describeRule = describeFirewallRule;

const digest = (rules: readonly FirewallRule[]): string =>
  createHash("sha256")
    .update(JSON.stringify(rules.map(describeRule).sort()))
    .digest("hex")
    .slice(0, 16);

/**
 * Existing hosts have a network already, and k3sinfra cannot own their firewall (a hardware firewall, the
 * hosts' own nftables, a hosting provider's panel). The Network contract is met honestly, as a record: the
 * state lists the hosts' zones, names the three roles the port matrix speaks of, and carries the rules the
 * hosts need (core's `firewallRules`, reported by `create` and written to each node host's ownership record,
 * `/var/lib/k3sinfra/owner-network.json`, for the operator). Nothing is opened or closed; preflight checks
 * what it can reach. `rulesDigest` is that of the rules asked for, so it never shows drift.
 */
export class HostsNetworkService implements NetworkService {
  readonly updatable = ["rules"] as const;

  constructor(private readonly hosts: Hosts) {}

  private state(cluster: string, spec: Pick<NetworkSpec, "zones" | "rules">): NetworkState {
    return {
      id: `hosts:${cluster}`,
      networkId: "existing-hosts",
      subnets: spec.zones.map((zone) => ({ zone, id: `zone:${zone}` })),
      groups: { nodes: "hosts:nodes", loadBalancer: "hosts:load-balancer", datastore: "hosts:datastore" },
      ruleCount: spec.rules.length,
      rulesDigest: digest(spec.rules),
    };
  }

  async create(spec: NetworkSpec, ctx: ResourceContext): Promise<NetworkState> {
    const data = { zones: spec.zones, rules: spec.rules.map(describeRule), raw: spec.rules };
    for (const target of this.hosts.nodeTargets())
      await this.hosts.with(target, ctx, (s) => claim(s, "network", ctx, [], data));
    // k3sinfra cannot own the hosts' firewall: say which ports they need, once per run.
    ctx.report(
      `open these ports on your firewall (k3sinfra does not manage it): ${spec.rules.map(describeRule).join("; ")}`,
    );
    return this.state(ctx.cluster, spec);
  }

  private async recorded(ctx: ResourceContext, tags: Tags): Promise<NetworkState | undefined> {
    const target = this.hosts.nodeTargets()[0];
    if (!target) return undefined;
    return this.hosts.with(target, ctx, async (s) => {
      const owner = await readOwner(s, "network");
      if (!owner || !tagsMatch(owner.tags, tags)) return undefined;
      const zones = (owner.data?.zones as string[] | undefined) ?? [];
      const rules = (owner.data?.raw as FirewallRule[] | undefined) ?? [];
      return this.state(String(owner.tags["k3sinfra:cluster"]), { zones, rules });
    });
  }

  read(_state: NetworkState, ctx: ResourceContext): Promise<NetworkState | undefined> {
    return this.recorded(ctx, { "k3sinfra:cluster": ctx.cluster });
  }

  update(_state: NetworkState, spec: NetworkSpec, ctx: ResourceContext): Promise<NetworkState> {
    return this.create(spec, ctx);
  }

  async delete(_state: NetworkState, ctx: ResourceContext): Promise<void> {
    for (const target of this.hosts.nodeTargets())
      await this.hosts.with(target, ctx, async (s) => {
        const owner = await readOwner(s, "network");
        if (owner && tagsMatch(owner.tags, { "k3sinfra:cluster": ctx.cluster }))
          await release(s, "network", owner);
      });
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<NetworkState[]> {
    const found = await this.recorded(ctx, tags);
    return found ? [found] : [];
  }

  async native(): Promise<unknown> {
    return this.hosts;
  }
}

import {
  type FirewallGroup,
  InvalidConfigError,
  type NetworkService,
  type NetworkSpec,
  type NetworkState,
  type ResourceContext,
  type Tags,
} from "@k3sinfra/core";
import { gcpCall, ONE_ATTEMPT } from "../call.js";
import type { GcpClients } from "../clients.js";
import { httpStatusOf } from "../errors.js";
import { describeOwned, hasLabels, markerLabels } from "../labels.js";
import { computeOp, insertVerified, requestId } from "../operations.js";
import type { GcpOptions } from "../options.js";
import {
  assertSafeRules,
  type LiveFirewall,
  rulesDigest,
  sameFirewall,
  type WantedFirewall,
  wantedFirewalls,
} from "./firewalls.js";
import { GcpNodeIdentity } from "./identity.js";

type Firewall = LiveFirewall & { name?: string | null; network?: string | null; description?: string | null };

/** The network tags that stand for the three groups: instances carry the nodes' one. */
export const groupTags = (base: string): Record<FirewallGroup, string> => ({
  nodes: `${base}-nodes`,
  loadBalancer: `${base}-lb`,
  datastore: `${base}-db`,
});

const last = (url: string | null | undefined) => (url ?? "").split("/").pop() ?? "";

/**
 * The VPC (the project's `default` network, or `options.gcp.network`), its subnetwork in the region for
 * every zone (GCP subnets are regional), and VPC firewall rules on the nodes' network tag that are exactly
 * the spec's rules (https://cloud.google.com/firewall/docs/firewalls#rule_assignment).
 */
export class GcpNetworkService implements NetworkService {
  readonly updatable = ["rules", "zones", "subnetIds"] as const satisfies readonly (keyof NetworkSpec)[];
  readonly #identity: GcpNodeIdentity;

  constructor(
    private readonly clients: GcpClients,
    private readonly options: GcpOptions,
  ) {
    this.#identity = new GcpNodeIdentity(clients);
  }

  native(): Promise<unknown> {
    return this.clients.compute("FirewallsClient");
  }

  create(spec: NetworkSpec, ctx: ResourceContext): Promise<NetworkState> {
    return this.#converge(spec, ctx);
  }

  update(_state: NetworkState, spec: NetworkSpec, ctx: ResourceContext): Promise<NetworkState> {
    return this.#converge(spec, ctx);
  }

  async #converge(spec: NetworkSpec, ctx: ResourceContext): Promise<NetworkState> {
    assertSafeRules(spec.rules);
    const { network, subnet } = await this.#locate(spec, ctx);
    const groups = groupTags(ctx.name);
    const wanted = wantedFirewalls(spec.rules, ctx.name, groups.nodes);
    const live = await this.#firewalls(groups.nodes, ctx);
    // Anything on the nodes' tag that the spec does not have goes (a rule added outside k3sinfra is drift).
    for (const fw of live) {
      const want = wanted.find((w) => w.name === fw.name);
      if (want && sameFirewall(fw, want)) continue;
      await this.#deleteFirewall(fw.name ?? "", ctx);
    }
    for (const want of wanted) {
      const have = live.find((fw) => fw.name === want.name);
      if (have && sameFirewall(have, want)) continue;
      await this.#insertFirewall(want, network, groups.nodes, ctx);
    }
    const after = await this.#firewalls(groups.nodes, ctx);
    // The nodes' identity: what lets them read their own cluster's secrets, and nothing else.
    const nodeIdentity = await this.#identity.ensure(ctx);
    return {
      nodeIdentity,
      id: groups.nodes,
      networkId: network,
      subnets: spec.zones.map((zone) => ({ zone, id: subnet.id, cidr: subnet.cidr })),
      groups,
      ruleCount: spec.rules.filter((r) => r.group === "nodes").length,
      rulesDigest: rulesDigest(after),
    };
  }

  async read(state: NetworkState, ctx: ResourceContext): Promise<NetworkState | undefined> {
    const live = await this.#firewalls(state.groups.nodes, ctx);
    if (!live.some((fw) => markerLabels(fw.description)["k3sinfra-cluster"])) return undefined;
    const identity =
      state.nodeIdentity === undefined
        ? {}
        : { nodeIdentity: (await this.#identity.exists(state.nodeIdentity, ctx)) ? state.nodeIdentity : "" };
    return { ...state, rulesDigest: rulesDigest(live), ...identity };
  }

  async delete(state: NetworkState, ctx: ResourceContext): Promise<void> {
    const live = await this.#firewalls(state.groups.nodes, ctx);
    for (const fw of live) {
      // Only ours: a rule naming another cluster in its marker is left alone.
      const owner = markerLabels(fw.description)["k3sinfra-cluster"];
      if (owner && !hasLabels(markerLabels(fw.description), { "k3sinfra:cluster": ctx.cluster })) continue;
      await this.#deleteFirewall(fw.name ?? "", ctx);
    }
    // The identity goes last: the nodes (deleted before the network) no longer use it.
    await this.#identity.delete(ctx);
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<NetworkState[]> {
    const all = await this.#allFirewalls(ctx);
    const byTag = new Map<string, Firewall[]>();
    for (const fw of all) {
      if (!hasLabels(markerLabels(fw.description), tags)) continue;
      const tag = fw.targetTags?.[0];
      if (!tag) continue;
      byTag.set(tag, [...(byTag.get(tag) ?? []), fw]);
    }
    return [...byTag].map(([tag, fws]) => ({
      id: tag,
      networkId: fws[0]?.network ?? "",
      subnets: [],
      groups: groupTags(tag.replace(/-nodes$/, "")),
      ruleCount: fws.length,
      rulesDigest: rulesDigest(fws),
    }));
  }

  /** The network and its subnetwork in the region, checked to exist. */
  async #locate(
    spec: NetworkSpec,
    ctx: ResourceContext,
  ): Promise<{ network: string; subnet: { id: string; cidr?: string } }> {
    const project = await this.clients.project();
    const name = last(spec.networkId) || this.options.network || "default";
    const networks = await this.clients.compute("NetworksClient");
    let net: {
      selfLink?: string | null;
      autoCreateSubnetworks?: boolean | null;
      subnetworks?: string[] | null;
    };
    try {
      [net] = await gcpCall(`Compute networks.get (${name})`, ctx, () =>
        networks.get({ project, network: name }, ONE_ATTEMPT),
      );
    } catch (error) {
      if (httpStatusOf(error) === 404)
        throw new InvalidConfigError([
          {
            path: "options.gcp.network",
            message: `project ${project} has no VPC network '${name}': create it, or name an existing one`,
          },
        ]);
      throw error;
    }
    const subnetName =
      last(Object.values(spec.subnetIds ?? {})[0]) ||
      this.options.subnetwork ||
      (net.autoCreateSubnetworks ? name : "");
    if (!subnetName)
      throw new InvalidConfigError([
        {
          path: "options.gcp.subnetwork",
          message: `network '${name}' is a custom-mode VPC: name its subnetwork in ${ctx.region}`,
        },
      ]);
    const subnets = await this.clients.compute("SubnetworksClient");
    try {
      const [sub] = await gcpCall(`Compute subnetworks.get (${subnetName})`, ctx, () =>
        subnets.get({ project, region: ctx.region, subnetwork: subnetName }, ONE_ATTEMPT),
      );
      return {
        network: net.selfLink ?? name,
        subnet: { id: sub.selfLink ?? subnetName, ...(sub.ipCidrRange ? { cidr: sub.ipCidrRange } : {}) },
      };
    } catch (error) {
      if (httpStatusOf(error) === 404)
        throw new InvalidConfigError([
          {
            path: "options.gcp.subnetwork",
            message: `network '${name}' has no subnetwork '${subnetName}' in ${ctx.region}`,
          },
        ]);
      throw error;
    }
  }

  async #allFirewalls(ctx: ResourceContext): Promise<Firewall[]> {
    const project = await this.clients.project();
    const firewalls = await this.clients.compute("FirewallsClient");
    const [items] = await gcpCall("Compute firewalls.list", ctx, () =>
      firewalls.list({ project }, ONE_ATTEMPT),
    );
    return items as Firewall[];
  }

  /** The firewall rules that apply to the nodes' tag (ours, and any added outside k3sinfra). */
  async #firewalls(nodesTag: string, ctx: ResourceContext): Promise<Firewall[]> {
    return (await this.#allFirewalls(ctx)).filter(
      (fw) => (fw.direction ?? "INGRESS") === "INGRESS" && (fw.targetTags ?? []).includes(nodesTag),
    );
  }

  async #insertFirewall(
    want: WantedFirewall,
    network: string,
    nodesTag: string,
    ctx: ResourceContext,
  ): Promise<void> {
    const project = await this.clients.project();
    const firewalls = await this.clients.compute("FirewallsClient");
    const what = `Compute firewalls.insert (${want.name})`;
    const step = `firewall/${want.name}/${JSON.stringify(want.allowed)}/${want.sourceRanges ?? want.sourceTags}`;
    await insertVerified(
      // Stable per rule content: a retry replays, a changed rule is a new request.
      (attempt) =>
        computeOp(this.clients, what, ctx, () =>
          firewalls.insert(
            {
              project,
              requestId: requestId(ctx.idempotencyToken, `${step}#${attempt}`),
              firewallResource: {
                name: want.name,
                network,
                direction: "INGRESS",
                priority: 1000,
                targetTags: [nodesTag],
                allowed: want.allowed,
                ...(want.sourceTags ? { sourceTags: want.sourceTags } : {}),
                ...(want.sourceRanges ? { sourceRanges: want.sourceRanges } : {}),
                description: describeOwned(want.description.slice(0, 1500), ctx.tags),
              },
            },
            ONE_ATTEMPT,
          ),
        ),
      async () => {
        try {
          await gcpCall(`Compute firewalls.get (${want.name})`, ctx, () =>
            firewalls.get({ project, firewall: want.name }, ONE_ATTEMPT),
          );
          return true;
        } catch (error) {
          if (httpStatusOf(error) === 404) return false;
          throw error;
        }
      },
      what,
    );
  }

  async #deleteFirewall(name: string, ctx: ResourceContext): Promise<void> {
    const project = await this.clients.project();
    const firewalls = await this.clients.compute("FirewallsClient");
    try {
      await computeOp(this.clients, `Compute firewalls.delete (${name})`, ctx, () =>
        firewalls.delete({ project, firewall: name }, ONE_ATTEMPT),
      );
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
    }
  }
}

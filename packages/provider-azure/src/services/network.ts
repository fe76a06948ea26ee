import {
  InvalidConfigError,
  type NetworkService,
  type NetworkSpec,
  type NetworkState,
  ProviderError,
  type ResourceContext,
  TAG_CLUSTER,
  type Tags,
} from "@k3sinfra/core";
import { azureCall, collect, orMissing } from "../call.js";
import type { AzureClients } from "../clients.js";
import { assertOwned, hasTags, ownsResourceGroup, parseId, resourceGroupOf } from "../naming.js";
import { type AzureOptions, DEFAULT_ADDRESS_SPACE } from "../options.js";
import { MYSQL_DELEGATION } from "../user-vnet.js";
import { deleteWhenFree, waitGone, waitSucceeded } from "./arm-wait.js";
import type { AzureNodeIdentity } from "./identity.js";
import { assertSameVnet, inUserVnet, UserVnetNetwork } from "./network-user.js";
import { deleteNsg, getNsg, putNsg } from "./nsg.js";
import { type GroupSources, rulesDigest } from "./nsg-rules.js";
import { ensureResourceGroup } from "./resource-group.js";

/** The node subnet and the MySQL delegated subnet inside the VNet's /16. */
export const subnetsOf = (options: AzureOptions): GroupSources & { nodes: string; datastore: string } => {
  const base = (options.addressSpace ?? DEFAULT_ADDRESS_SPACE).split(".").slice(0, 2).join(".");
  return { nodes: `${base}.0.0/24`, datastore: `${base}.1.0/24` };
};

const MINUTE = 60_000;

/** Names of the network's parts, from the resource's physical name. */
export const networkNames = (name: string) => ({
  vnet: name,
  nodesNsg: `${name}-nodes`,
  datastoreNsg: `${name}-db`,
  nodesSubnet: "nodes",
  datastoreSubnet: "mysql",
});

/**
 * A resource group per cluster (or the given one), one VNet with a node subnet and a subnet delegated to
 * MySQL flexible server, and an NSG on each subnet holding exactly core's K3s port matrix. With
 * `options.azure.virtualNetworkId` the VNet and subnets are the user's instead (network-user.ts).
 */
export class AzureNetworkService implements NetworkService {
  readonly updatable = ["rules"] as const;
  private readonly user: UserVnetNetwork;

  constructor(
    private readonly clients: AzureClients,
    private readonly options: AzureOptions,
    /** The nodes' identity, when the cluster keeps its secrets in Key Vault (the nodes then read them as it). */
    private readonly identity?: AzureNodeIdentity | undefined,
  ) {
    this.user = new UserVnetNetwork(clients, options);
  }

  async native(): Promise<unknown> {
    return this.clients.network();
  }

  async create(spec: NetworkSpec, ctx: ResourceContext): Promise<NetworkState> {
    if (spec.networkId || spec.subnetIds)
      throw new InvalidConfigError([
        {
          path: "network",
          message:
            "an existing VNet is given on Azure as options.azure.virtualNetworkId with nodeSubnet and datastoreSubnet: leave network.id and subnets unset",
        },
      ]);
    const rg = await ensureResourceGroup(this.clients, this.options, ctx);
    if (this.options.virtualNetworkId) {
      const state = await this.user.converge(rg, spec, ctx);
      return this.withIdentity(state, ctx, true);
    }
    const names = networkNames(ctx.name);
    const net = await this.clients.network();
    const existing = await orMissing(
      azureCall(`Network VirtualNetworks_Get (${names.vnet})`, ctx, (o) =>
        net.virtualNetworks.get(rg, names.vnet, o),
      ),
    );
    if (existing) assertOwned(existing.tags, ctx, `virtual network ${existing.id}`);
    const space = this.options.addressSpace ?? DEFAULT_ADDRESS_SPACE;
    const had = existing?.addressSpace?.addressPrefixes?.[0];
    // Subnets in use (NICs, the MySQL server) cannot change their prefixes, so a live VNet is never re-addressed
    // (https://learn.microsoft.com/en-us/azure/virtual-network/virtual-network-manage-subnet#change-subnet-settings).
    if (had && had !== space)
      throw new ProviderError(
        /^10\.4[23]\./.test(had)
          ? `Virtual network ${names.vnet} has the address space ${had}, which overlaps K3s's pod network (10.42.0.0/16): its nodes cannot route to their pods. k3sinfra does not re-address a live network: destroy the cluster and up it again (it then uses ${space}).`
          : `Virtual network ${names.vnet} has the address space ${had}; the config asks for ${space} (options.azure.addressSpace, default ${DEFAULT_ADDRESS_SPACE}). k3sinfra does not re-address a live network: set addressSpace to ${had}, or destroy the cluster and up it again.`,
      );
    const cidrs = subnetsOf(this.options);
    const [nodesNsg, dbNsg] = await Promise.all([
      putNsg(this.clients, rg, names.nodesNsg, spec, "nodes", cidrs, ctx),
      putNsg(this.clients, rg, names.datastoreNsg, spec, "datastore", cidrs, ctx),
    ]);
    // A VNet PUT replaces its subnets: both are always in the body, so a second PUT never deletes one.
    await azureCall(`Network VirtualNetworks_CreateOrUpdate (${names.vnet})`, ctx, (o) =>
      net.virtualNetworks
        .createOrUpdate(
          rg,
          names.vnet,
          {
            location: ctx.region,
            // The zones it serves, so findByTags can rebuild the state without the spec.
            tags: { ...ctx.tags, "k3sinfra:zones": spec.zones.join(",") },
            addressSpace: { addressPrefixes: [space] },
            subnets: [
              { name: names.nodesSubnet, addressPrefix: cidrs.nodes, networkSecurityGroup: { id: nodesNsg } },
              {
                name: names.datastoreSubnet,
                addressPrefix: cidrs.datastore,
                networkSecurityGroup: { id: dbNsg },
                delegations: [{ name: "mysql", serviceName: MYSQL_DELEGATION }],
              },
            ],
          },
          o,
        )
        .submitted(),
    );
    const vnet = await waitSucceeded(
      `virtual network ${names.vnet}`,
      () =>
        orMissing(
          azureCall(`Network VirtualNetworks_Get (${names.vnet})`, ctx, (o) =>
            net.virtualNetworks.get(rg, names.vnet, o),
          ),
        ),
      ctx,
      10 * MINUTE,
    );
    await this.identity?.ensure(ctx);
    return this.state(rg, vnet.id ?? "", spec.zones, ctx);
  }

  async read(state: NetworkState, ctx: ResourceContext): Promise<NetworkState | undefined> {
    if (inUserVnet(state)) {
      const live = await this.user.read(state, ctx);
      return live && this.withIdentity(live, ctx, false);
    }
    assertSameVnet(state, this.options);
    const { resourceGroup: rg, name } = parseId(state.id);
    const net = await this.clients.network();
    const vnet = await orMissing(
      azureCall(`Network VirtualNetworks_Get (${name})`, ctx, (o) => net.virtualNetworks.get(rg, name, o)),
    );
    if (!vnet) return undefined;
    return this.state(
      rg,
      vnet.id ?? state.id,
      state.subnets.map((s) => s.zone),
      ctx,
    );
  }

  /** Converges both NSGs to exactly the spec's rules (a rule added outside k3sinfra is removed). */
  async update(state: NetworkState, spec: NetworkSpec, ctx: ResourceContext): Promise<NetworkState> {
    const { resourceGroup: rg, name } = parseId(state.id);
    if (inUserVnet(state))
      return this.withIdentity(await this.user.converge(rg, spec, ctx, state), ctx, true);
    assertSameVnet(state, this.options);
    const names = networkNames(name);
    const cidrs = subnetsOf(this.options);
    await Promise.all([
      putNsg(this.clients, rg, names.nodesNsg, spec, "nodes", cidrs, ctx),
      putNsg(this.clients, rg, names.datastoreNsg, spec, "datastore", cidrs, ctx),
    ]);
    // A node identity deleted outside k3sinfra ("" in the state read) is made again.
    await this.identity?.ensure(ctx);
    return this.state(rg, state.id, spec.zones, ctx);
  }

  /** Deletes what the recorded network is, whatever the config says now (destroy works from the state). */
  async delete(state: NetworkState, ctx: ResourceContext): Promise<void> {
    const { resourceGroup: rg, name } = parseId(state.id);
    if (inUserVnet(state)) await this.user.delete(state, ctx);
    else await this.deleteOwn(rg, name, ctx);
    // The identity goes last: the nodes (deleted before the network) no longer use it.
    await this.identity?.delete(ctx);
    if (ownsResourceGroup(this.options)) await this.deleteResourceGroup(rg, ctx);
  }

  /** k3sinfra's own VNet (only one whose tags name this cluster: never one it did not make), then its NSGs. */
  private async deleteOwn(rg: string, name: string, ctx: ResourceContext): Promise<void> {
    const names = networkNames(name);
    const net = await this.clients.network();
    const vnet = await orMissing(
      azureCall(`Network VirtualNetworks_Get (${name})`, ctx, (o) => net.virtualNetworks.get(rg, name, o)),
    );
    if (vnet && !hasTags(vnet.tags, { [TAG_CLUSTER]: ctx.cluster }))
      throw new ProviderError(
        `Not deleting virtual network ${vnet.id}: its tags do not name k3sinfra cluster '${ctx.cluster}', so k3sinfra did not make it.`,
      );
    if (vnet) {
      assertOwned(vnet.tags, ctx, `virtual network ${vnet.id}`);
      // NICs and the MySQL server leave the subnets asynchronously: "in use" is waited out, not failed on.
      await deleteWhenFree(
        `virtual network ${name}`,
        () =>
          azureCall(`Network VirtualNetworks_Delete (${name})`, ctx, (o) =>
            net.virtualNetworks.delete(rg, name, o).submitted(),
          ),
        ctx,
        30 * MINUTE,
      );
      await waitGone(
        `virtual network ${name} to be deleted`,
        () =>
          orMissing(
            azureCall(`Network VirtualNetworks_Get (${name})`, ctx, (o) =>
              net.virtualNetworks.get(rg, name, o),
            ),
          ),
        ctx,
        30 * MINUTE,
      );
    }
    for (const nsg of [names.nodesNsg, names.datastoreNsg]) await deleteNsg(this.clients, rg, nsg, ctx);
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<NetworkState[]> {
    const rg = resourceGroupOf(this.options, ctx.cluster);
    const net = await this.clients.network();
    const vnets = await orMissing(
      azureCall(`Network VirtualNetworks_List (${rg})`, ctx, () => collect(net.virtualNetworks.list(rg))),
    );
    const out: NetworkState[] = [];
    for (const v of vnets ?? []) {
      if (!hasTags(v.tags, tags) || !v.id) continue;
      const zones = v.tags?.["k3sinfra:zones"]?.split(",") ?? ["1"];
      out.push(await this.state(rg, v.id, zones, ctx));
    }
    // A network in a user's VNet is its NSGs, recorded by the node NSG's id (no VNet of ours beside them), and
    // either may be left alone by a crash; deleting such a state touches no VNet (network-user.ts).
    const nsgs = await orMissing(
      azureCall(`Network NetworkSecurityGroups_List (${rg})`, ctx, () =>
        collect(net.networkSecurityGroups.list(rg)),
      ),
    );
    const bases = new Map<string, string>();
    for (const g of nsgs ?? []) {
      const base = /^(.+)-(nodes|db)$/.exec(g.name ?? "")?.[1];
      if (!g.id || !base || !hasTags(g.tags, tags) || (vnets ?? []).some((v) => v.name === base)) continue;
      bases.set(base, g.id.replace(/[^/]+$/, `${base}-nodes`));
    }
    for (const id of bases.values())
      out.push({
        id,
        networkId: this.options.virtualNetworkId ?? "",
        subnets: [],
        groups: { nodes: id, loadBalancer: id, datastore: "" },
        ruleCount: 0,
      });
    return out;
  }

  /** The nodes' identity into a state (made when `ensure`: create and update). */
  private async withIdentity<T extends NetworkState>(state: T, ctx: ResourceContext, ensure: boolean) {
    if (!this.identity) return state;
    if (ensure) await this.identity.ensure(ctx);
    return { ...state, nodeIdentity: (await this.identity.get(ctx))?.id ?? "" };
  }

  private async deleteResourceGroup(rg: string, ctx: ResourceContext): Promise<void> {
    const res = await this.clients.resources();
    const found = await orMissing(
      azureCall(`Resources ResourceGroups_Get (${rg})`, ctx, (o) => res.resourceGroups.get(rg, o)),
    );
    if (!found) return;
    assertOwned(found.tags, ctx, `resource group ${rg}`);
    if (found.properties?.provisioningState !== "Deleting")
      await azureCall(`Resources ResourceGroups_Delete (${rg})`, ctx, (o) =>
        res.resourceGroups.delete(rg, o).submitted(),
      );
    // Delete returns once the group is gone (waitForSync is about propagation, which a group has not).
    await waitGone(
      `resource group ${rg} to be deleted`,
      () =>
        orMissing(
          azureCall(`Resources ResourceGroups_Get (${rg})`, ctx, (o) => res.resourceGroups.get(rg, o)),
        ),
      ctx,
      60 * MINUTE,
    );
  }

  /** The state as the contract has it, with the digest of the rules in place now. */
  private async state(
    rg: string,
    vnetId: string,
    zones: readonly string[],
    ctx: ResourceContext,
  ): Promise<NetworkState> {
    const names = networkNames(parseId(vnetId).name);
    const [nodes, db] = await Promise.all(
      [names.nodesNsg, names.datastoreNsg].map((n) => getNsg(this.clients, rg, n, ctx)),
    );
    const nodesRules = nodes?.securityRules ?? [];
    const dbRules = db?.securityRules ?? [];
    const subnet = `${vnetId}/subnets/${names.nodesSubnet}`;
    const cidr = subnetsOf(this.options).nodes;
    const identity = this.identity ? ((await this.identity.get(ctx))?.id ?? "") : undefined;
    return {
      ...(identity === undefined ? {} : { nodeIdentity: identity }),
      id: vnetId,
      networkId: vnetId,
      // Azure subnets span every zone of the region: the one node subnet serves each zone.
      subnets: zones.map((zone) => ({ zone, id: subnet, cidr })),
      // A Standard Load Balancer has no firewall of its own: the node NSG admits its traffic.
      groups: { nodes: nodes?.id ?? "", loadBalancer: nodes?.id ?? "", datastore: db?.id ?? "" },
      ruleCount: nodesRules.length + dbRules.length,
      rulesDigest: rulesDigest({ nodes: nodesRules, datastore: dbRules }),
    };
  }
}

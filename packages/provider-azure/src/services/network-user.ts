import type { NetworkInterface, Subnet } from "@azure/arm-network";
import {
  InvalidConfigError,
  type NetworkSpec,
  type NetworkState,
  ProviderError,
  type ResourceContext,
  TAG_CLUSTER,
} from "@k3sinfra/core";
import { azureCall, collect, orMissing } from "../call.js";
import type { AzureClients } from "../clients.js";
import { assertOwned, hasTags, parseId } from "../naming.js";
import type { AzureOptions } from "../options.js";
import { prefixesOf, type UserVnet, userVnetOf } from "../user-vnet.js";
import { waitSucceeded } from "./arm-wait.js";
import { putNic } from "./nic.js";
import { deleteNsg, getNsg, putNsg } from "./nsg.js";
import { rulesDigest } from "./nsg-rules.js";

const MINUTE = 60_000;

/** The network as this provider records it. */
export interface AzureNetworkState extends NetworkState {
  /** In a user's VNet: the NSG k3sinfra puts on every node NIC (the node subnet's own NSG stays the user's). */
  readonly nicSecurityGroup?: string | undefined;
  /** In a user's VNet: the subnet delegated to MySQL (in k3sinfra's own VNet it is derived from the VNet). */
  readonly datastoreSubnet?: string | undefined;
}

/** Whether a recorded network sits in a user's VNet: its id is then k3sinfra's node NSG, not a VNet. */
export const inUserVnet = (state: NetworkState): boolean => !/\/virtualNetworks\//i.test(state.id);

/** The base name of a user-VNet network from its id (`<name>-nodes`, the node NSG). */
const baseOf = (state: NetworkState): string => parseId(state.id).name.replace(/-nodes$/, "");

/**
 * Refuses a config that moves a live cluster between its own VNet and a user's, or between two VNets: the
 * nodes, the load balancer's backends and the MySQL server sit in the recorded one and cannot move in place.
 */
export function assertSameVnet(state: NetworkState, options: AzureOptions): void {
  const wanted = options.virtualNetworkId;
  const recorded = inUserVnet(state) ? state.networkId : undefined;
  if ((wanted ?? "").toLowerCase() === (recorded ?? "").toLowerCase()) return;
  throw new InvalidConfigError([
    {
      path: "options.azure.virtualNetworkId",
      message: `the cluster lives in ${recorded ? `virtual network ${recorded}` : `its own virtual network ${state.networkId}`}, and the config asks for ${wanted ? `virtual network ${wanted}` : "a virtual network k3sinfra makes"}: k3sinfra does not move a live cluster between virtual networks. Put the option back as it was, or destroy the cluster and create it again in the other network.`,
    },
  ]);
}

/**
 * The network in a VNet the user owns (`options.azure.virtualNetworkId`). k3sinfra never creates, changes or
 * deletes the VNet or its subnets, with one exception: its datastore NSG goes on the datastore subnet (a
 * flexible server has no NIC of its own to carry one, and only there can MySQL be kept to the node subnet),
 * only when the subnet has no NSG (preflight), and comes off again at destroy. The node rules are a NIC-level
 * NSG, so the node subnet's own NSG stays the user's; both apply to a node's traffic.
 * https://learn.microsoft.com/en-us/azure/virtual-network/network-security-group-how-it-works
 */
export class UserVnetNetwork {
  constructor(
    private readonly clients: AzureClients,
    private readonly options: AzureOptions,
  ) {}

  /** Makes or converges the two NSGs and the datastore subnet's association; `recorded` on update. */
  async converge(
    rg: string,
    spec: NetworkSpec,
    ctx: ResourceContext,
    recorded?: NetworkState,
  ): Promise<AzureNetworkState> {
    if (recorded) assertSameVnet(recorded, this.options);
    const vnet = this.vnet();
    const base = recorded ? baseOf(recorded) : ctx.name;
    const { node, db } = await this.subnets(vnet, ctx);
    const sources = { nodes: prefixesOf(node), datastore: prefixesOf(db) };
    const [nodesNsg, dbNsg] = await Promise.all([
      putNsg(this.clients, rg, `${base}-nodes`, spec, "nodes", sources, ctx),
      putNsg(this.clients, rg, `${base}-db`, spec, "datastore", sources, ctx),
    ]);
    await this.associate(vnet, db, dbNsg, ctx);
    await this.guardNics(rg, nodesNsg, ctx);
    return this.state(rg, base, spec.zones, ctx);
  }

  /** The network as it is now; `undefined` when neither of its NSGs exists any more. */
  async read(state: NetworkState, ctx: ResourceContext): Promise<AzureNetworkState | undefined> {
    assertSameVnet(state, this.options);
    const { resourceGroup: rg } = parseId(state.id);
    const base = baseOf(state);
    const [nodes, db] = await Promise.all([
      getNsg(this.clients, rg, `${base}-nodes`, ctx),
      getNsg(this.clients, rg, `${base}-db`, ctx),
    ]);
    if (!nodes && !db) return undefined;
    return this.state(
      rg,
      base,
      state.subnets.map((s) => s.zone),
      ctx,
    );
  }

  /**
   * Takes the datastore NSG off whatever subnet holds it (the user's datastore subnet, as it was before), then
   * deletes both NSGs. The VNet and its subnets are never deleted: they are the user's.
   */
  async delete(state: NetworkState, ctx: ResourceContext): Promise<void> {
    const { resourceGroup: rg } = parseId(state.id);
    const base = baseOf(state);
    const db = await getNsg(this.clients, rg, `${base}-db`, ctx);
    if (db) {
      assertOwned(db.tags, ctx, `network security group ${db.id}`);
      for (const s of db.subnets ?? []) if (s.id && db.id) await this.dissociate(s.id, db.id, ctx);
    }
    await deleteNsg(this.clients, rg, `${base}-nodes`, ctx);
    await deleteNsg(this.clients, rg, `${base}-db`, ctx);
  }

  private vnet(): UserVnet {
    const vnet = userVnetOf(this.options);
    if (!vnet) throw new ProviderError("the network in a user's VNet needs options.azure.virtualNetworkId");
    return vnet;
  }

  /** Both subnets, read again (preflight checked them; they may have gone since). */
  private async subnets(vnet: UserVnet, ctx: ResourceContext): Promise<{ node: Subnet; db: Subnet }> {
    const [node, db] = await Promise.all([
      this.getSubnet(vnet.resourceGroup, vnet.name, vnet.nodeSubnet, ctx),
      this.getSubnet(vnet.resourceGroup, vnet.name, vnet.datastoreSubnet, ctx),
    ]);
    if (!node || !db)
      throw new InvalidConfigError([
        {
          path: `options.azure.${node ? "datastoreSubnet" : "nodeSubnet"}`,
          message: `virtual network ${vnet.id} has no subnet '${node ? vnet.datastoreSubnet : vnet.nodeSubnet}'`,
        },
      ]);
    return { node, db };
  }

  private getSubnet(rg: string, vnet: string, name: string, ctx: ResourceContext) {
    return this.clients
      .network()
      .then((net) =>
        orMissing(
          azureCall(`Network Subnets_Get (${vnet}/${name})`, ctx, (o) => net.subnets.get(rg, vnet, name, o)),
        ),
      );
  }

  /** Puts k3sinfra's datastore NSG on the datastore subnet, which must carry none or this one (no other is replaced). */
  private async associate(vnet: UserVnet, subnet: Subnet, nsgId: string, ctx: ResourceContext) {
    const current = subnet.networkSecurityGroup?.id;
    if (current?.toLowerCase() === nsgId.toLowerCase()) return;
    if (current)
      throw new InvalidConfigError([
        {
          path: "options.azure.datastoreSubnet",
          message: `subnet '${vnet.datastoreSubnet}' carries network security group ${current}: k3sinfra does not replace it; give a subnet with no NSG, used by this cluster only`,
        },
      ]);
    await this.putSubnet(
      `${vnet.id}/subnets/${vnet.datastoreSubnet}`,
      { ...subnet, networkSecurityGroup: { id: nsgId } },
      ctx,
    );
  }

  /** Takes our NSG off a subnet, leaving every other property as it is; a subnet holding another NSG is left alone. */
  private async dissociate(subnetId: string, nsgId: string, ctx: ResourceContext): Promise<void> {
    const { resourceGroup, name } = parseId(subnetId);
    const vnet = subnetId.split("/").at(-3) ?? "";
    const subnet = await this.getSubnet(resourceGroup, vnet, name, ctx);
    if (subnet?.networkSecurityGroup?.id?.toLowerCase() !== nsgId.toLowerCase()) return;
    const { networkSecurityGroup: _ours, ...rest } = subnet;
    await this.putSubnet(subnetId, rest, ctx);
  }

  /** The cluster's NICs (the nodes' own, in its resource group). */
  private async clusterNics(rg: string, ctx: ResourceContext): Promise<NetworkInterface[]> {
    const net = await this.clients.network();
    const all = await orMissing(
      azureCall(`Network NetworkInterfaces_List (${rg})`, ctx, () => collect(net.networkInterfaces.list(rg))),
    );
    return (all ?? []).filter((n) => hasTags(n.tags, { [TAG_CLUSTER]: ctx.cluster }));
  }

  /**
   * Puts the node NSG back on a node NIC that lost it outside k3sinfra (the NIC is k3sinfra's; its whole body
   * is written back as read, as a NIC PUT replaces what it leaves out). New NICs get it from the nodes.
   */
  private async guardNics(rg: string, nsgId: string, ctx: ResourceContext): Promise<void> {
    for (const nic of await this.clusterNics(rg, ctx)) {
      if (!nic.name || nic.networkSecurityGroup?.id?.toLowerCase() === nsgId.toLowerCase()) continue;
      await putNic(this.clients, rg, nic.name, { ...nic, networkSecurityGroup: { id: nsgId } }, ctx, "NSG");
    }
  }

  /** A subnet PUT with the subnet's whole body as read (a PUT replaces what it leaves out), waited for. */
  private async putSubnet(subnetId: string, body: Subnet, ctx: ResourceContext): Promise<void> {
    const { resourceGroup, name } = parseId(subnetId);
    const vnet = subnetId.split("/").at(-3) ?? "";
    const net = await this.clients.network();
    await azureCall(`Network Subnets_CreateOrUpdate (${vnet}/${name})`, ctx, (o) =>
      net.subnets.createOrUpdate(resourceGroup, vnet, name, body, o).submitted(),
    );
    await waitSucceeded(
      `subnet ${vnet}/${name}`,
      () => this.getSubnet(resourceGroup, vnet, name, ctx),
      ctx,
      10 * MINUTE,
    );
  }

  /** The state as the contract has it, with the digest of the rules in place now. */
  private async state(
    rg: string,
    base: string,
    zones: readonly string[],
    ctx: ResourceContext,
  ): Promise<AzureNetworkState> {
    const vnet = this.vnet();
    const [nodes, db, node, dbSubnet, nics] = await Promise.all([
      getNsg(this.clients, rg, `${base}-nodes`, ctx),
      getNsg(this.clients, rg, `${base}-db`, ctx),
      this.getSubnet(vnet.resourceGroup, vnet.name, vnet.nodeSubnet, ctx),
      this.getSubnet(vnet.resourceGroup, vnet.name, vnet.datastoreSubnet, ctx),
      this.clusterNics(rg, ctx),
    ]);
    // The NIC-level NSG is the nodes' firewall: a node NIC without it reads as drift (""), repaired by update.
    const guarded =
      nodes?.id !== undefined &&
      nics.every((n) => n.networkSecurityGroup?.id?.toLowerCase() === nodes.id?.toLowerCase());
    const nodesRules = nodes?.securityRules ?? [];
    const dbRules = db?.securityRules ?? [];
    // The association is part of the datastore's firewall: one removed outside k3sinfra reads as drift ("").
    const associated =
      db?.id !== undefined && dbSubnet?.networkSecurityGroup?.id?.toLowerCase() === db.id.toLowerCase();
    const id =
      nodes?.id ??
      `/subscriptions/${this.clients.settings.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Network/networkSecurityGroups/${base}-nodes`;
    const subnetId = `${vnet.id}/subnets/${vnet.nodeSubnet}`;
    // One CIDR, as the contract has it (the NSG rules take every prefix of the subnet).
    const cidr = node ? prefixesOf(node)[0] : undefined;
    return {
      id,
      networkId: vnet.id,
      // Azure subnets span every zone of the region: the one node subnet serves each zone.
      subnets: zones.map((zone) => ({ zone, id: subnetId, ...(cidr ? { cidr } : {}) })),
      groups: {
        nodes: nodes?.id ?? "",
        loadBalancer: nodes?.id ?? "",
        datastore: associated ? (db?.id ?? "") : "",
      },
      ruleCount: nodesRules.length + dbRules.length,
      rulesDigest: rulesDigest({ nodes: nodesRules, datastore: dbRules }),
      nicSecurityGroup: guarded ? (nodes?.id ?? "") : "",
      datastoreSubnet: `${vnet.id}/subnets/${vnet.datastoreSubnet}`,
    };
  }
}

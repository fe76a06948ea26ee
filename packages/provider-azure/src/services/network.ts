import {
  InvalidConfigError,
  type NetworkService,
  type NetworkSpec,
  type NetworkState,
  type ResourceContext,
  type Tags,
  waitUntil,
} from "@k3sinfra/core";
import { azureCall, collect, orMissing } from "../call.js";
import type { AzureClients } from "../clients.js";
import { assertOwned, hasTags, ownsResourceGroup, parseId, resourceGroupOf } from "../naming.js";
import type { AzureOptions } from "../options.js";
import { waitGone, waitSucceeded } from "./arm-wait.js";
import type { AzureNodeIdentity } from "./identity.js";
import { type GroupSources, nsgRules, rulesDigest } from "./nsg-rules.js";
import { ensureResourceGroup } from "./resource-group.js";

/** The node subnet and the MySQL delegated subnet inside the VNet's /16. */
export const subnetsOf = (options: AzureOptions): GroupSources => {
  const base = (options.addressSpace ?? "10.42.0.0/16").split(".").slice(0, 2).join(".");
  return { nodes: `${base}.0.0/24`, datastore: `${base}.1.0/24` };
};

// Subnet delegation lets MySQL flexible server inject into the subnet (private access).
// https://learn.microsoft.com/en-us/azure/mysql/flexible-server/concepts-networking-vnet#virtual-network-concepts
const MYSQL_DELEGATION = "Microsoft.DBforMySQL/flexibleServers";
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
 * MySQL flexible server, and an NSG on each subnet holding exactly core's K3s port matrix.
 */
export class AzureNetworkService implements NetworkService {
  readonly updatable = ["rules"] as const;

  constructor(
    private readonly clients: AzureClients,
    private readonly options: AzureOptions,
    /** The nodes' identity, when the cluster keeps its secrets in Key Vault (the nodes then read them as it). */
    private readonly identity?: AzureNodeIdentity | undefined,
  ) {}

  async native(): Promise<unknown> {
    return this.clients.network();
  }

  async create(spec: NetworkSpec, ctx: ResourceContext): Promise<NetworkState> {
    if (spec.networkId || spec.subnetIds)
      throw new InvalidConfigError([
        {
          path: "network",
          message: "an existing VNet is not supported on Azure yet: leave network.id and subnets unset",
        },
      ]);
    const rg = await ensureResourceGroup(this.clients, this.options, ctx);
    const names = networkNames(ctx.name);
    const net = await this.clients.network();
    const existing = await orMissing(
      azureCall(`Network VirtualNetworks_Get (${names.vnet})`, ctx, (o) =>
        net.virtualNetworks.get(rg, names.vnet, o),
      ),
    );
    if (existing) assertOwned(existing.tags, ctx, `virtual network ${existing.id}`);
    const [nodesNsg, dbNsg] = await Promise.all([
      this.putNsg(rg, names.nodesNsg, spec, "nodes", ctx),
      this.putNsg(rg, names.datastoreNsg, spec, "datastore", ctx),
    ]);
    const cidrs = subnetsOf(this.options);
    const space = this.options.addressSpace ?? "10.42.0.0/16";
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
    const names = networkNames(name);
    await Promise.all([
      this.putNsg(rg, names.nodesNsg, spec, "nodes", ctx),
      this.putNsg(rg, names.datastoreNsg, spec, "datastore", ctx),
    ]);
    // A node identity deleted outside k3sinfra ("" in the state read) is made again.
    await this.identity?.ensure(ctx);
    return this.state(rg, state.id, spec.zones, ctx);
  }

  async delete(state: NetworkState, ctx: ResourceContext): Promise<void> {
    const { resourceGroup: rg, name } = parseId(state.id);
    const names = networkNames(name);
    const net = await this.clients.network();
    const vnet = await orMissing(
      azureCall(`Network VirtualNetworks_Get (${name})`, ctx, (o) => net.virtualNetworks.get(rg, name, o)),
    );
    if (vnet) {
      assertOwned(vnet.tags, ctx, `virtual network ${vnet.id}`);
      // NICs and the MySQL server leave the subnets asynchronously: "in use" is waited out, not failed on.
      await waitUntil(
        async () => {
          try {
            await azureCall(`Network VirtualNetworks_Delete (${name})`, ctx, (o) =>
              net.virtualNetworks.delete(rg, name, o).submitted(),
            );
            return { state: "SUCCESS", value: undefined };
          } catch (error) {
            if ((error as { code?: string }).code === "DependencyViolation")
              return { state: "RETRY", reason: (error as Error).message };
            throw error;
          }
        },
        {
          ...ctx.poll,
          signal: ctx.signal,
          maxWaitMs: 30 * MINUTE,
          description: `virtual network ${name} to be free to delete`,
        },
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
    for (const nsg of [names.nodesNsg, names.datastoreNsg]) {
      const found = await orMissing(
        azureCall(`Network NetworkSecurityGroups_Get (${nsg})`, ctx, (o) =>
          net.networkSecurityGroups.get(rg, nsg, o),
        ),
      );
      if (!found) continue;
      assertOwned(found.tags, ctx, `network security group ${found.id}`);
      await azureCall(`Network NetworkSecurityGroups_Delete (${nsg})`, ctx, (o) =>
        net.networkSecurityGroups.delete(rg, nsg, o).submitted(),
      );
      await waitGone(
        `network security group ${nsg} to be deleted`,
        () =>
          orMissing(
            azureCall(`Network NetworkSecurityGroups_Get (${nsg})`, ctx, (o) =>
              net.networkSecurityGroups.get(rg, nsg, o),
            ),
          ),
        ctx,
        10 * MINUTE,
      );
    }
    // The identity goes last: the nodes (deleted before the network) no longer use it.
    await this.identity?.delete(ctx);
    if (ownsResourceGroup(this.options)) await this.deleteResourceGroup(rg, ctx);
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
    return out;
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

  /** PUTs one NSG with exactly the spec's rules (a PUT replaces the rule list) and waits for it. */
  private async putNsg(
    rg: string,
    name: string,
    spec: NetworkSpec,
    group: "nodes" | "datastore",
    ctx: ResourceContext,
  ): Promise<string> {
    const net = await this.clients.network();
    const get = () =>
      orMissing(
        azureCall(`Network NetworkSecurityGroups_Get (${name})`, ctx, (o) =>
          net.networkSecurityGroups.get(rg, name, o),
        ),
      );
    const found = await get();
    if (found) assertOwned(found.tags, ctx, `network security group ${found.id}`);
    await azureCall(`Network NetworkSecurityGroups_CreateOrUpdate (${name})`, ctx, (o) =>
      net.networkSecurityGroups
        .createOrUpdate(
          rg,
          name,
          {
            location: ctx.region,
            tags: { ...ctx.tags },
            securityRules: nsgRules(spec.rules, group, subnetsOf(this.options)),
          },
          o,
        )
        .submitted(),
    );
    const nsg = await waitSucceeded(`network security group ${name}`, get, ctx, 10 * MINUTE);
    return nsg.id ?? "";
  }

  /** The state as the contract has it, with the digest of the rules in place now. */
  private async state(
    rg: string,
    vnetId: string,
    zones: readonly string[],
    ctx: ResourceContext,
  ): Promise<NetworkState> {
    const names = networkNames(parseId(vnetId).name);
    const net = await this.clients.network();
    const [nodes, db] = await Promise.all(
      [names.nodesNsg, names.datastoreNsg].map((n) =>
        orMissing(
          azureCall(`Network NetworkSecurityGroups_Get (${n})`, ctx, (o) =>
            net.networkSecurityGroups.get(rg, n, o),
          ),
        ),
      ),
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

import type { Subnet } from "@azure/arm-network";
import {
  type CallContext,
  type ConfigIssue,
  K3S_CLUSTER_CIDR,
  K3sinfraError,
  TAG_CLUSTER,
} from "@k3sinfra/core";
import { azureCall, orMissing } from "./call.js";
import type { AzureClients } from "./clients.js";
import { hasTags, parseId } from "./naming.js";
import type { AzureOptions } from "./options.js";

// Subnet delegation lets MySQL flexible server inject into the subnet (private access); a delegated subnet
// holds flexible servers only. https://learn.microsoft.com/en-us/azure/mysql/flexible-server/concepts-networking-vnet#virtual-network-concepts
export const MYSQL_DELEGATION = "Microsoft.DBforMySQL/flexibleServers";

/**
 * Address ranges the nodes' subnets must stay clear of: K3s's default pod and service networks
 * (`cluster-cidr` 10.42.0.0/16, `service-cidr` 10.43.0.0/16, https://docs.k3s.io/cli/server), which k3sinfra
 * does not change; a node subnet inside one would collide with the routes flannel and kube-proxy set up.
 */
const K3S_RANGES = [K3S_CLUSTER_CIDR, "10.43.0.0/16"] as const;

/** The user's VNet and the two subnets in it, from `options.azure.virtualNetworkId`, `nodeSubnet`, `datastoreSubnet`. */
export interface UserVnet {
  readonly id: string;
  readonly resourceGroup: string;
  readonly name: string;
  readonly nodeSubnet: string;
  readonly datastoreSubnet: string;
}

/** The existing VNet the options name, or `undefined` when k3sinfra makes its own. */
export function userVnetOf(options: AzureOptions): UserVnet | undefined {
  const id = options.virtualNetworkId;
  if (!id) return undefined;
  const { resourceGroup, name } = parseId(id);
  return {
    id,
    resourceGroup,
    name,
    nodeSubnet: options.nodeSubnet ?? "",
    datastoreSubnet: options.datastoreSubnet ?? "",
  };
}

/** The address prefixes of a subnet (`addressPrefix`, or the list form). */
export const prefixesOf = (s: Subnet): string[] =>
  [s.addressPrefix, ...(s.addressPrefixes ?? [])].filter((p): p is string => Boolean(p));

const toRange = (cidr: string): [number, number] | undefined => {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  const ip = m.slice(1, 5).reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(m[5]));
  const start = ip - (ip % size);
  return [start, start + size - 1];
};

/** True when two IPv4 CIDRs share an address. */
export function overlaps(a: string, b: string): boolean {
  const [x, y] = [toRange(a), toRange(b)];
  return x !== undefined && y !== undefined && x[0] <= y[1] && y[0] <= x[1];
}

const sameRegion = (a: string | undefined, b: string): boolean =>
  (a ?? "").replace(/\s/g, "").toLowerCase() === b.replace(/\s/g, "").toLowerCase();

/**
 * Read-only checks of the user's VNet before anything is made: it exists and the credentials read it, it is
 * in the cluster's region, the node subnet exists undelegated (NICs cannot go in a delegated subnet), the
 * datastore subnet is delegated to MySQL flexible server and carries no NSG but this cluster's (k3sinfra puts
 * its own there and will not replace anyone's), and neither overlaps K3s's pod or service network.
 */
export async function userVnetIssues(
  clients: AzureClients,
  vnet: UserVnet,
  region: string,
  cluster: string,
  ctx: CallContext,
): Promise<ConfigIssue[]> {
  const net = await clients.network();
  const path = "options.azure.virtualNetworkId";
  let found: Awaited<ReturnType<typeof net.virtualNetworks.get>> | undefined;
  try {
    found = await orMissing(
      azureCall(`Network VirtualNetworks_Get (${vnet.name})`, ctx, (o) =>
        net.virtualNetworks.get(vnet.resourceGroup, vnet.name, o),
      ),
    );
  } catch (error) {
    if (!K3sinfraError.is(error, "AuthFailed")) throw error;
    return [
      {
        path,
        message: `virtual network ${vnet.id} cannot be read with these credentials: grant the identity Network Contributor on it (k3sinfra joins its subnets and sets an NSG on the datastore subnet)`,
      },
    ];
  }
  if (!found)
    return [
      {
        path,
        message: `no virtual network ${vnet.id}: create it (with the two subnets), or leave the option unset for one k3sinfra makes`,
      },
    ];
  const issues: ConfigIssue[] = [];
  if (!sameRegion(found.location, region))
    issues.push({
      path,
      message: `virtual network ${vnet.name} is in ${found.location ?? "no region"}, the cluster in ${region}: a VM's NIC and a flexible server must be in their VNet's region`,
    });
  const subnets = found.subnets ?? [];
  const byName = (n: string) => subnets.find((s) => s.name?.toLowerCase() === n.toLowerCase());
  const names = subnets.map((s) => s.name).join(", ") || "none";
  const node = byName(vnet.nodeSubnet);
  const db = byName(vnet.datastoreSubnet);
  if (!node)
    issues.push({
      path: "options.azure.nodeSubnet",
      message: `virtual network ${vnet.name} has no subnet '${vnet.nodeSubnet}' (it has: ${names}); k3sinfra does not make subnets in a VNet it does not own`,
    });
  else if ((node.delegations ?? []).length > 0)
    issues.push({
      path: "options.azure.nodeSubnet",
      message: `subnet '${vnet.nodeSubnet}' is delegated to ${node.delegations?.map((d) => d.serviceName).join(", ")}: the nodes' NICs need an undelegated subnet`,
    });
  if (!db)
    issues.push({
      path: "options.azure.datastoreSubnet",
      message: `virtual network ${vnet.name} has no subnet '${vnet.datastoreSubnet}' (it has: ${names}); create one delegated to ${MYSQL_DELEGATION}`,
    });
  else if (!(db.delegations ?? []).some((d) => d.serviceName === MYSQL_DELEGATION))
    issues.push({
      path: "options.azure.datastoreSubnet",
      message: `subnet '${vnet.datastoreSubnet}' is not delegated to ${MYSQL_DELEGATION}: delegate it (az network vnet subnet update --delegations ${MYSQL_DELEGATION}), or name one that is`,
    });
  else if (db.networkSecurityGroup?.id) {
    const { resourceGroup, name } = parseId(db.networkSecurityGroup.id);
    const nsg = await orMissing(
      azureCall(`Network NetworkSecurityGroups_Get (${name})`, ctx, (o) =>
        net.networkSecurityGroups.get(resourceGroup, name, o),
      ),
    );
    if (!hasTags(nsg?.tags, { [TAG_CLUSTER]: cluster }))
      issues.push({
        path: "options.azure.datastoreSubnet",
        message: `subnet '${vnet.datastoreSubnet}' carries network security group ${name}: k3sinfra puts its own NSG on the datastore subnet (MySQL from the node subnet only) and does not replace another; give a subnet with no NSG, used by this cluster only`,
      });
  }
  for (const [key, s] of [
    ["nodeSubnet", node],
    ["datastoreSubnet", db],
  ] as const)
    for (const prefix of s ? prefixesOf(s) : [])
      for (const range of K3S_RANGES)
        if (overlaps(prefix, range))
          issues.push({
            path: `options.azure.${key}`,
            message: `subnet '${s?.name}' (${prefix}) overlaps K3s's pod or service network ${range}: use a subnet outside 10.42.0.0/15`,
          });
  return issues;
}

/** Every emulated resource type, by lower-cased type. */
import type { Kind } from "../model.js";
import { virtualMachines } from "./compute.js";
import { networkInterfaces, publicIPAddresses } from "./interfaces.js";
import { roleAssignments, userAssignedIdentities, vaults } from "./keyvault.js";
import { loadBalancers } from "./load-balancer.js";
import { configurations, databases, flexibleServers } from "./mysql.js";
import { networkSecurityGroups, securityRules, subnets, virtualNetworks } from "./network.js";
import { aRecords, dnsZones, privateDnsZones, virtualNetworkLinks } from "./private-dns.js";
import { resourceGroups } from "./resources.js";

const ALL: readonly Kind[] = [
  resourceGroups,
  virtualNetworks,
  subnets,
  networkSecurityGroups,
  securityRules,
  publicIPAddresses,
  networkInterfaces,
  virtualMachines,
  loadBalancers,
  flexibleServers,
  databases,
  configurations,
  privateDnsZones,
  virtualNetworkLinks,
  dnsZones,
  aRecords,
  userAssignedIdentities,
  vaults,
  roleAssignments,
];

export const KINDS: ReadonlyMap<string, Kind> = new Map(ALL.map((k) => [k.type.toLowerCase(), k]));

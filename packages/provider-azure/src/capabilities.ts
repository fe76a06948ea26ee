import type { NameRule, ProviderCapabilities } from "@k3sinfra/core";

const ZONES = ["1", "2", "3"] as const;

/**
 * Regions with availability zones 1, 2 and 3 (zone numbers are logical, mapped per subscription).
 * https://learn.microsoft.com/en-us/azure/reliability/regions-list
 */
export const AZURE_ZONES: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  [
    "eastus",
    "eastus2",
    "centralus",
    "southcentralus",
    "westus2",
    "westus3",
    "canadacentral",
    "brazilsouth",
    "northeurope",
    "westeurope",
    "uksouth",
    "francecentral",
    "germanywestcentral",
    "swedencentral",
    "switzerlandnorth",
    "norwayeast",
    "polandcentral",
    "italynorth",
    "spaincentral",
    "australiaeast",
    "japaneast",
    "koreacentral",
    "southeastasia",
    "eastasia",
    "centralindia",
    "southafricanorth",
    "uaenorth",
    "qatarcentral",
    "israelcentral",
  ].map((r) => [r, ZONES]),
);

// https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules
const NETWORK_NAME = {
  pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]$/,
  patternHint: "letters, digits, underscores, periods and hyphens, beginning with a letter or digit",
  docs: "https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules#microsoftnetwork",
} as const;

/** Names the Azure provider derives from the config, with the rules Azure puts on them. */
export const AZURE_NAME_RULES: readonly NameRule[] = [
  {
    object: "resource group name",
    template: "k3sinfra-{cluster}",
    role: "network",
    maxLength: 90,
    docs: "https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules#microsoftresources",
  },
  { object: "virtual network name", template: "{network}", role: "network", maxLength: 64, ...NETWORK_NAME },
  {
    object: "network security group name",
    template: "{network}-nodes",
    role: "network",
    maxLength: 80,
    ...NETWORK_NAME,
  },
  { object: "network interface name", template: "{node}-nic", role: "nodes", maxLength: 80, ...NETWORK_NAME },
  {
    // Linux computer names: 1-64 characters; VM names may not end with a period or hyphen.
    object: "virtual machine name",
    template: "{node}",
    role: "nodes",
    maxLength: 64,
    noTrailingHyphen: true,
    docs: "https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules#microsoftcompute",
  },
  {
    // Flexible server names are global DNS labels: 3-63 lowercase letters, digits and hyphens.
    object: "MySQL flexible server name",
    template: "{datastore}",
    role: "datastore",
    maxLength: 63,
    pattern: /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
    patternHint:
      "lowercase letters, digits and hyphens, not beginning or ending with a hyphen, at least 3 characters",
    noLeadingHyphen: true,
    noTrailingHyphen: true,
    docs: "https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules#microsoftdbformysql",
  },
];

/** What the Azure provider can do, as data. */
export const azureCapabilities: ProviderCapabilities = {
  // secretStore: a Key Vault per cluster, read on the nodes with the cluster's managed identity.
  services: ["network", "nodes", "datastore", "loadBalancer", "dns", "secretStore"],
  // L4 only: a Standard Load Balancer. L7 (Application Gateway v2 with a Key Vault certificate) is not
  // implemented, so a config asking for it fails at plan time.
  loadBalancerModes: ["l4"],
  loadBalancerAddress: "ip",
  // A Standard Load Balancer passes client addresses through and has no firewall of its own.
  loadBalancerFirewall: "passthrough",
  dnsRecordTypes: ["A"],
  dnsProxy: false,
  // Flexible server through @azure/arm-mysql-flexible 3.1 (api-version 2021-05-01): 8.0.21 is the only 8.x it
  // can ask for (Single Server, @azure/arm-mysql, was retired on 2024-09-16).
  datastoreEngines: [{ engine: "mysql", versions: ["8.0"] }],
  // require_secure_transport is ON on every flexible server; the provider keeps it on.
  datastoreTls: "required",
  zones: AZURE_ZONES,
  names: AZURE_NAME_RULES,
  credentialEnv: ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_SUBSCRIPTION_ID"],
};

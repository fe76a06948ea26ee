import type { ConfigIssue } from "@k3sinfra/core";

/** `options.azure` in a cluster config: Azure settings that have no portable equivalent. */
export interface AzureOptions {
  /** The subscription; default `AZURE_SUBSCRIPTION_ID`. */
  readonly subscriptionId?: string | undefined;
  /** ARM's endpoint (a sovereign cloud, the emulator); default `https://management.azure.com`. */
  readonly endpoint?: string | undefined;
  /** Entra ID's authority host; default `AZURE_AUTHORITY_HOST`, else the public cloud's. */
  readonly authorityHost?: string | undefined;
  /** A PEM file of a CA trusted besides the system's (a TLS-inspecting proxy, the emulator's CA); default `AZURE_CA_FILE`. */
  readonly caFile?: string | undefined;
  /** An existing resource group to build in (never deleted); default: one per cluster, `k3sinfra-<cluster>`, deleted on destroy. */
  readonly resourceGroup?: string | undefined;
  /** The VNet's address space when k3sinfra makes the VNet; default `10.100.0.0/16` (nodes in .0.0/24, MySQL in .1.0/24). */
  readonly addressSpace?: string | undefined;
  /** An existing VNet to build in, by resource id (any resource group of the subscription); default: one made per cluster. */
  readonly virtualNetworkId?: string | undefined;
  /** With `virtualNetworkId`: the name of its existing, undelegated subnet the nodes go in (required). */
  readonly nodeSubnet?: string | undefined;
  /** With `virtualNetworkId`: the name of its existing subnet delegated to `Microsoft.DBforMySQL/flexibleServers` (required). */
  readonly datastoreSubnet?: string | undefined;
  /** VM size when `nodes.instanceType` is unset; default: from `nodes.size`. */
  readonly vmSize?: string | undefined;
  /** MySQL flexible server SKU (e.g. `Standard_D2ds_v4`) when `datastore.instanceClass` is unset. */
  readonly datastoreSku?: string | undefined;
  /** The resource group of the Azure DNS zone `dns.zone`; default: found in the subscription. */
  readonly dnsResourceGroup?: string | undefined;
  /** An OpenSSH public key (`ssh-rsa …`) for the nodes' admin user; default: a key pair made and thrown away (no SSH). */
  readonly sshPublicKey?: string | undefined;
}

/** The VNet's address space when `addressSpace` is unset: clear of K3s's pod and service networks (10.42/10.43). */
export const DEFAULT_ADDRESS_SPACE = "10.100.0.0/16";

const KEYS: Readonly<Record<keyof AzureOptions, "string" | "boolean">> = {
  subscriptionId: "string",
  endpoint: "string",
  authorityHost: "string",
  caFile: "string",
  resourceGroup: "string",
  addressSpace: "string",
  virtualNetworkId: "string",
  nodeSubnet: "string",
  datastoreSubnet: "string",
  vmSize: "string",
  datastoreSku: "string",
  dnsResourceGroup: "string",
  sshPublicKey: "string",
};

// Resource group names: https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules#microsoftresources
const RG = /^[-\w.()]{1,89}[-\w()]$|^[-\w()]$/u;

// Subnet names: 1-80 characters, alphanumerics, _ . -, starting alphanumeric, ending alphanumeric or _.
// https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules#microsoftnetwork
const SUBNET = /^[A-Za-z0-9]([-\w.]{0,78}\w)?$/u;
const SUBNET_MESSAGE = "must be a subnet name: 1-80 letters, digits, _ . -, starting with a letter or digit";

const PATTERNS: Partial<Record<keyof AzureOptions, [RegExp, string]>> = {
  subscriptionId: [
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    "must be a subscription id (a GUID)",
  ],
  endpoint: [/^https:\/\/[^\s/]+\/?$/, "must be an https URL such as https://management.azure.com"],
  authorityHost: [/^https:\/\/[^\s/]+\/?$/, "must be an https URL such as https://login.microsoftonline.com"],
  resourceGroup: [
    RG,
    "must be a resource group name: 1-90 letters, digits, _ - . ( ), not ending with a period",
  ],
  dnsResourceGroup: [
    RG,
    "must be a resource group name: 1-90 letters, digits, _ - . ( ), not ending with a period",
  ],
  // Never K3s's own pod and service networks (`cluster-cidr` 10.42.0.0/16, `service-cidr` 10.43.0.0/16, which
  // k3sinfra keeps: https://docs.k3s.io/cli/server#networking): a node address inside the pod network collides
  // with the pod subnet flannel gives that node.
  addressSpace: [
    /^10\.(?!4[23]\.)\d{1,3}\.0\.0\/16$/,
    "must be a /16 in 10.0.0.0/8 outside K3s's pod and service networks (10.42.0.0/16, 10.43.0.0/16), such as 10.100.0.0/16",
  ],
  // A VNet's name is 2-64 characters of the same set as a subnet's (resource-name-rules, as above).
  virtualNetworkId: [
    /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.Network\/virtualNetworks\/[A-Za-z0-9][-\w.]{0,62}\w$/iu,
    "must be a virtual network's resource id: /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<name>",
  ],
  nodeSubnet: [SUBNET, SUBNET_MESSAGE],
  datastoreSubnet: [SUBNET, SUBNET_MESSAGE],
  vmSize: [/^(Standard|Basic)_[A-Za-z0-9_]+$/, "must be a VM size such as Standard_D2s_v5"],
  datastoreSku: [/^Standard_[A-Za-z0-9_]+$/, "must be a MySQL flexible server SKU such as Standard_D2ds_v4"],
  sshPublicKey: [
    /^(ssh-rsa|ssh-ed25519) [A-Za-z0-9+/=]+( .*)?$/,
    "must be an OpenSSH public key line (ssh-rsa … or ssh-ed25519 …)",
  ],
};

/** Validates `options.azure`; issue paths are relative to that block. */
export function parseAzureOptions(
  raw: unknown,
): { ok: true; value: AzureOptions } | { ok: false; issues: ConfigIssue[] } {
  if (raw === undefined || raw === null) return { ok: true, value: {} };
  if (typeof raw !== "object" || Array.isArray(raw))
    return { ok: false, issues: [{ path: "", message: "must be a mapping of Azure settings" }] };
  const issues: ConfigIssue[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const kind = KEYS[key as keyof AzureOptions];
    if (!kind) {
      issues.push({ path: key, message: `is not an Azure option; known: ${Object.keys(KEYS).join(", ")}` });
      continue;
    }
    if (value === undefined) continue;
    if (kind === "boolean" && typeof value !== "boolean")
      issues.push({ path: key, message: "must be true or false" });
    if (kind === "string") {
      const pattern = PATTERNS[key as keyof AzureOptions];
      if (typeof value !== "string") issues.push({ path: key, message: "must be a string" });
      else if (pattern && !pattern[0].test(value)) issues.push({ path: key, message: pattern[1] });
    }
  }
  if (issues.length === 0) issues.push(...vnetIssues(raw as AzureOptions));
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: raw as AzureOptions };
}

/** The existing-VNet options go together, and exclude the address space of a VNet k3sinfra would make. */
function vnetIssues(o: AzureOptions): ConfigIssue[] {
  if (o.virtualNetworkId === undefined)
    return (["nodeSubnet", "datastoreSubnet"] as const)
      .filter((k) => o[k] !== undefined)
      .map((k) => ({
        path: k,
        message: "applies only with options.azure.virtualNetworkId: set it, or remove this",
      }));
  const out: ConfigIssue[] = [];
  if (o.addressSpace !== undefined)
    out.push({
      path: "addressSpace",
      message:
        "conflicts with options.azure.virtualNetworkId: the address space is the existing VNet's; remove one of the two",
    });
  for (const k of ["nodeSubnet", "datastoreSubnet"] as const)
    if (o[k] === undefined)
      out.push({
        path: k,
        message: "is required with options.azure.virtualNetworkId: name a subnet of that VNet",
      });
  if (o.nodeSubnet !== undefined && o.nodeSubnet.toLowerCase() === o.datastoreSubnet?.toLowerCase())
    out.push({
      path: "datastoreSubnet",
      message: "must differ from options.azure.nodeSubnet: MySQL needs a subnet delegated to it alone",
    });
  return out;
}

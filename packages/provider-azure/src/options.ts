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
  /** The VNet's address space; default `10.42.0.0/16` (nodes in .0.0/24, MySQL in .1.0/28). */
  readonly addressSpace?: string | undefined;
  /** VM size when `nodes.instanceType` is unset; default: from `nodes.size`. */
  readonly vmSize?: string | undefined;
  /** MySQL flexible server SKU (e.g. `Standard_D2ds_v4`) when `datastore.instanceClass` is unset. */
  readonly datastoreSku?: string | undefined;
  /** The resource group of the Azure DNS zone `dns.zone`; default: found in the subscription. */
  readonly dnsResourceGroup?: string | undefined;
  /** An OpenSSH public key (`ssh-rsa …`) for the nodes' admin user; default: a key pair made and thrown away (no SSH). */
  readonly sshPublicKey?: string | undefined;
}

const KEYS: Readonly<Record<keyof AzureOptions, "string" | "boolean">> = {
  subscriptionId: "string",
  endpoint: "string",
  authorityHost: "string",
  caFile: "string",
  resourceGroup: "string",
  addressSpace: "string",
  vmSize: "string",
  datastoreSku: "string",
  dnsResourceGroup: "string",
  sshPublicKey: "string",
};

// Resource group names: https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules#microsoftresources
const RG = /^[-\w.()]{1,89}[-\w()]$|^[-\w()]$/u;

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
  addressSpace: [/^10\.\d{1,3}\.0\.0\/16$/, "must be a /16 in 10.0.0.0/8 such as 10.42.0.0/16"],
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
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: raw as AzureOptions };
}

import {
  type ClusterConfig,
  type ConfigIssue,
  InvalidConfigError,
  type ServiceKind,
  TAG_CLUSTER,
} from "@k3sinfra/core";
import { azureCall, collect, orMissing } from "./call.js";
import type { AzureClients } from "./clients.js";
import { hasTags, ownsResourceGroup, resourceGroupOf } from "./naming.js";
import type { AzureOptions } from "./options.js";
import { vaultNameOf } from "./services/vault.js";
import { userVnetIssues, userVnetOf } from "./user-vnet.js";

/**
 * Read-only checks before anything is created, all issues together: a subscription and credentials that
 * reach it, the given resource group, an existing VNet and its two subnets (user-vnet.ts), the DNS zone (for
 * the DNS role), and that the cluster's Key Vault name is
 * not held by another owner's soft-deleted vault (for the secret store: the name stays taken until purged).
 */
export async function azurePreflight(input: {
  clients: AzureClients;
  config: ClusterConfig;
  options: AzureOptions;
  roles: readonly ServiceKind[];
  signal: AbortSignal;
  operation?: "up" | "destroy" | undefined;
}): Promise<void> {
  const { clients, config, options, roles } = input;
  const ctx = { signal: input.signal };
  if (!clients.settings.subscriptionId)
    throw new InvalidConfigError([
      { path: "options.azure.subscriptionId", message: "no subscription: set it, or AZURE_SUBSCRIPTION_ID" },
    ]);
  const issues: ConfigIssue[] = [];
  const res = await clients.resources();
  // Any ARM read proves the token and the subscription; the resource group is the one we need anyway.
  const rg = resourceGroupOf(options, config.name);
  const group = await orMissing(
    azureCall(`Resources ResourceGroups_Get (${rg})`, ctx, (o) => res.resourceGroups.get(rg, o)),
  );
  if (!group && !ownsResourceGroup(options) && input.operation !== "destroy")
    issues.push({
      path: "options.azure.resourceGroup",
      message: `resource group '${rg}' does not exist in subscription ${clients.settings.subscriptionId}`,
    });
  const vnet = userVnetOf(options);
  if (vnet && roles.includes("network") && input.operation !== "destroy")
    issues.push(...(await userVnetIssues(clients, vnet, config.region, config.name, ctx)));
  if (roles.includes("dns") && input.operation !== "destroy") {
    const dns = await clients.dns();
    const zones = await azureCall("DNS Zones_List", ctx, () => collect(dns.zones.list()));
    const named = zones.filter((z) => z.name?.toLowerCase() === config.dns.zone.toLowerCase());
    if (named.length === 0)
      issues.push({
        path: "dns.zone",
        message: `no Azure DNS zone '${config.dns.zone}' in subscription ${clients.settings.subscriptionId}: create it, or use dns.provider cloudflare`,
      });
  }
  if (roles.includes("secretStore") && input.operation !== "destroy") {
    const name = vaultNameOf(clients.settings.subscriptionId, rg, config.name);
    const kv = await clients.keyVault();
    const deleted = await orMissing(
      azureCall(`KeyVault Vaults_GetDeleted (${name})`, ctx, (o) =>
        kv.vaults.getDeleted(name, config.region, o),
      ),
    );
    // One of this cluster's own (an interrupted destroy) is purged by up; anyone else's is not k3sinfra's to purge.
    if (deleted && !hasTags(deleted.properties?.tags, { [TAG_CLUSTER]: config.name }))
      issues.push({
        path: "name",
        message: `the cluster's Key Vault name '${name}' is held by a soft-deleted vault that is not this cluster's (until ${deleted.properties?.scheduledPurgeDate?.toISOString() ?? "its purge date"}): purge it (az keyvault purge --name ${name}) or build in another resource group (options.azure.resourceGroup)`,
      });
  }
  if (issues.length > 0) throw new InvalidConfigError(issues);
}

import { InvalidConfigError, type ResourceContext, TAG_RESOURCE, type Tags } from "@k3sinfra/core";
import { azureCall, orMissing } from "../call.js";
import type { AzureClients } from "../clients.js";
import { assertOwned, ownsResourceGroup, resourceGroupOf } from "../naming.js";
import type { AzureOptions } from "../options.js";

/**
 * The tags of what the network owns though another service may make it first (the resource group, the nodes'
 * identity): the network's, so which of the two ran first does not change them.
 */
export const networkTags = (ctx: ResourceContext): Tags => ({ ...ctx.tags, [TAG_RESOURCE]: "network" });

/**
 * Makes the cluster's resource group (tagged as the cluster), or checks that the given one exists. The network
 * and the secret store both call it: either may be created first, and a PUT of the same group is idempotent.
 */
export async function ensureResourceGroup(
  clients: AzureClients,
  options: AzureOptions,
  ctx: ResourceContext,
): Promise<string> {
  const rg = resourceGroupOf(options, ctx.cluster);
  const res = await clients.resources();
  const found = await orMissing(
    azureCall(`Resources ResourceGroups_Get (${rg})`, ctx, (o) => res.resourceGroups.get(rg, o)),
  );
  if (!ownsResourceGroup(options)) {
    if (!found)
      throw new InvalidConfigError([
        {
          path: "options.azure.resourceGroup",
          message: `resource group '${rg}' does not exist in the subscription: create it, or leave the option unset for one per cluster`,
        },
      ]);
    return rg;
  }
  if (found) assertOwned(found.tags, ctx, `resource group ${rg}`);
  if (!found || found.properties?.provisioningState === "Deleting")
    await azureCall(`Resources ResourceGroups_CreateOrUpdate (${rg})`, ctx, (o) =>
      res.resourceGroups.createOrUpdate(rg, { location: ctx.region, tags: networkTags(ctx) }, o),
    );
  return rg;
}

import type { Identity } from "@azure/arm-msi";
import { ProviderError, type ResourceContext, TAG_CLUSTER } from "@k3sinfra/core";
import { azureCall, orMissing } from "../call.js";
import type { AzureClients } from "../clients.js";
import { hasTags, resourceGroupOf } from "../naming.js";
import type { AzureOptions } from "../options.js";
import { ensureResourceGroup, networkTags } from "./resource-group.js";

/** The nodes' user-assigned managed identity: `k3sinfra-<cluster>-nodes` (3-128 characters, letters, digits, `-_`). */
export const identityName = (cluster: string): string => `k3sinfra-${cluster}-nodes`;

/**
 * The nodes' identity: one user-assigned managed identity per cluster, with no role of its own on the
 * subscription. What it may do is granted on the cluster's Key Vault (secrets.ts), so a node reads its own
 * cluster's secrets and nothing else. https://learn.microsoft.com/en-us/entra/identity/managed-identities-azure-resources/overview
 */
export class AzureNodeIdentity {
  constructor(
    private readonly clients: AzureClients,
    private readonly options: AzureOptions,
  ) {}

  async get(ctx: ResourceContext): Promise<Identity | undefined> {
    const msi = await this.clients.msi();
    const rg = resourceGroupOf(this.options, ctx.cluster);
    const name = identityName(ctx.cluster);
    return orMissing(
      azureCall(`ManagedIdentity UserAssignedIdentities_Get (${name})`, ctx, (o) =>
        msi.userAssignedIdentities.get(rg, name, o),
      ),
    );
  }

  /** Makes (or adopts) the identity; returns it with its principal (object) id and client id. */
  async ensure(ctx: ResourceContext): Promise<Identity & { id: string; principalId: string }> {
    const found = await this.get(ctx);
    if (found && !hasTags(found.tags, { [TAG_CLUSTER]: ctx.cluster }))
      throw new ProviderError(
        `Not touching managed identity ${found.id}: its ownership tags do not name k3sinfra cluster '${ctx.cluster}'.`,
      );
    let identity = found;
    if (!identity) {
      const rg = await ensureResourceGroup(this.clients, this.options, ctx);
      const msi = await this.clients.msi();
      const name = identityName(ctx.cluster);
      identity = await azureCall(
        `ManagedIdentity UserAssignedIdentities_CreateOrUpdate (${name})`,
        ctx,
        (o) =>
          msi.userAssignedIdentities.createOrUpdate(
            rg,
            name,
            { location: ctx.region, tags: networkTags(ctx) },
            o,
          ),
      );
    }
    if (!identity.id || !identity.principalId)
      throw new ProviderError(`Managed identity ${identityName(ctx.cluster)} has no principal id.`);
    return identity as Identity & { id: string; principalId: string };
  }

  /** Deletes the identity when it is this cluster's; a missing one is fine. */
  async delete(ctx: ResourceContext): Promise<void> {
    const found = await this.get(ctx);
    if (!found || !hasTags(found.tags, { [TAG_CLUSTER]: ctx.cluster })) return;
    const msi = await this.clients.msi();
    const name = identityName(ctx.cluster);
    await orMissing(
      azureCall(`ManagedIdentity UserAssignedIdentities_Delete (${name})`, ctx, (o) =>
        msi.userAssignedIdentities.delete(resourceGroupOf(this.options, ctx.cluster), name, o),
      ),
    );
  }
}

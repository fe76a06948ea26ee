import { createHash } from "node:crypto";
import type { Vault } from "@azure/arm-keyvault";
import { K3sinfraError, ProviderError, type ResourceContext, TAG_CLUSTER, waitUntil } from "@k3sinfra/core";
import { azureCall, azureOperation, orMissing } from "../call.js";
import type { AzureClients } from "../clients.js";
import { hasAzureCode } from "../errors.js";
import { hasTags } from "../naming.js";

const MINUTE = 60_000;

/**
 * Built-in data roles, by their ids (the same in every tenant):
 * https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles/security
 */
export const SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6";
export const SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";

/**
 * The cluster's vault name: globally unique (it is the DNS label `<name>.vault.azure.net`), 3-24 letters,
 * digits and hyphens, starting with a letter, no `--`. `k3s-<cluster, shortened>-<hash>`: the hash of the
 * subscription, resource group and cluster keeps two subscriptions' clusters of one name apart.
 * https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules#microsoftkeyvault
 */
export function vaultNameOf(subscription: string, resourceGroup: string, cluster: string): string {
  const hash = createHash("sha256")
    .update(`${subscription}/${resourceGroup}/${cluster}`.toLowerCase())
    .digest("hex");
  const slug = cluster
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, 12)
    .replace(/-+$/, "");
  return slug ? `k3s-${slug}-${hash.slice(0, 6)}` : `k3s-${hash.slice(0, 8)}`;
}

/** A role assignment's name: a GUID derived from scope, principal and role, so a second `up` PUTs the same one. */
export function assignmentName(scope: string, principalId: string, role: string): string {
  const h = createHash("sha256").update(`${scope.toLowerCase()}|${principalId}|${role}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Key Vault's DNS suffixes per cloud: a vault URI elsewhere is not Azure's (the emulator's). */
const VAULT_DOMAINS = [
  ".vault.azure.net",
  ".vault.azure.cn",
  ".vault.usgovcloudapi.net",
  ".vault.microsoftazure.de",
];
export const isKeyVaultHost = (uri: string): boolean => {
  const host = new URL(uri).hostname.toLowerCase();
  return VAULT_DOMAINS.some((d) => host.endsWith(d));
};

/** The vault, or `undefined`. */
export async function getVault(
  clients: AzureClients,
  rg: string,
  name: string,
  ctx: ResourceContext,
): Promise<Vault | undefined> {
  const kv = await clients.keyVault();
  return orMissing(azureCall(`KeyVault Vaults_Get (${name})`, ctx, (o) => kv.vaults.get(rg, name, o)));
}

/**
 * Makes the cluster's vault, or adopts it when its tags name this cluster. RBAC mode (data access only by role
 * assignments); soft delete is always on (7 days, the least: a leftover vault frees its name soonest); purge
 * protection off, so destroy can purge the vault and free its name at once (with it on, a deleted vault holds
 * its name for the whole retention and cannot be purged).
 * https://learn.microsoft.com/en-us/azure/key-vault/general/soft-delete-overview
 */
export async function ensureVault(
  clients: AzureClients,
  rg: string,
  name: string,
  tenantId: string,
  ctx: ResourceContext,
): Promise<Vault & { id: string }> {
  const kv = await clients.keyVault();
  let vault = await getVault(clients, rg, name, ctx);
  if (vault && !hasTags(vault.tags, { [TAG_CLUSTER]: ctx.cluster }))
    throw new ProviderError(
      `Not touching key vault ${vault.id}: its ownership tags do not name k3sinfra cluster '${ctx.cluster}'.`,
    );
  if (!vault) {
    const deleted = await orMissing(
      azureCall(`KeyVault Vaults_GetDeleted (${name})`, ctx, (o) =>
        kv.vaults.getDeleted(name, ctx.region, o),
      ),
    );
    if (deleted) {
      // Ours, left soft-deleted by an interrupted destroy: purged so the name is free again.
      if (!hasTags(deleted.properties?.tags, { [TAG_CLUSTER]: ctx.cluster }))
        throw new ProviderError(
          `Key vault name ${name} is held by a soft-deleted vault that is not k3sinfra cluster '${ctx.cluster}''s; purge or recover it (az keyvault purge --name ${name}) or use another resource group.`,
        );
      await purgeVault(clients, name, ctx);
    }
    await azureOperation(`KeyVault Vaults_CreateOrUpdate (${name})`, ctx, (o) =>
      kv.vaults.beginCreateOrUpdate(
        rg,
        name,
        {
          location: ctx.region,
          tags: { ...ctx.tags },
          properties: {
            tenantId,
            sku: { family: "A", name: "standard" },
            enableRbacAuthorization: true,
            softDeleteRetentionInDays: 7,
            publicNetworkAccess: "Enabled",
          },
        },
        o,
      ),
    );
    vault = await getVault(clients, rg, name, ctx);
  }
  if (!vault?.id || !vault.properties?.vaultUri)
    throw new ProviderError(`Key vault ${name} has no vault URI yet.`);
  return vault as Vault & { id: string };
}

/** Purges the soft-deleted vault `name` (frees its name); a missing one is fine. */
export async function purgeVault(clients: AzureClients, name: string, ctx: ResourceContext): Promise<void> {
  const kv = await clients.keyVault();
  try {
    await azureOperation(`KeyVault Vaults_PurgeDeleted (${name})`, ctx, (o) =>
      kv.vaults.beginPurgeDeleted(name, ctx.region, o),
    );
  } catch (error) {
    if (!K3sinfraError.is(error, "NotFound")) throw error;
  }
}

/** A scope as the client's path parameter takes it: without the leading `/` (the swagger's examples), else `//`. */
const scopeParam = (id: string): string => id.replace(/^\/+/, "");

/**
 * Grants `role` on `scope` to `principalId` (idempotent: a deterministic name, and an existing grant is fine).
 * `principalType` is given for a principal made just before (the nodes' identity): without it ARM looks the
 * principal up and refuses one Entra ID has not replicated yet (`PrincipalNotFound`).
 * https://learn.microsoft.com/en-us/azure/role-based-access-control/role-assignments-template#new-service-principal
 */
export async function assignRole(
  clients: AzureClients,
  scope: string,
  principalId: string,
  role: string,
  ctx: ResourceContext,
  principalType?: "ServicePrincipal",
): Promise<void> {
  const auth = await clients.authorization();
  const name = assignmentName(scope, principalId, role);
  const sub = clients.settings.subscriptionId;
  try {
    await azureCall(`Authorization RoleAssignments_Create (${name})`, ctx, (o) =>
      auth.roleAssignments.create(
        scopeParam(scope),
        name,
        {
          roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
          principalId,
          ...(principalType ? { principalType } : {}),
        },
        o,
      ),
    );
  } catch (error) {
    if (!hasAzureCode(error, "RoleAssignmentExists")) throw error;
  }
}

/** Removes the assignment `assignRole` made; a missing one is fine. */
export async function unassignRole(
  clients: AzureClients,
  scope: string,
  principalId: string,
  role: string,
  ctx: ResourceContext,
): Promise<void> {
  const auth = await clients.authorization();
  const name = assignmentName(scope, principalId, role);
  await orMissing(
    azureCall(`Authorization RoleAssignments_Delete (${name})`, ctx, (o) =>
      auth.roleAssignments.delete(scopeParam(scope), name, o),
    ),
  );
}

/**
 * Runs a data-plane call, waiting out `ForbiddenByRbac` while a new role assignment propagates (minutes on
 * Azure: https://learn.microsoft.com/en-us/azure/role-based-access-control/troubleshooting).
 */
export function afterRbac<T>(description: string, ctx: ResourceContext, fn: () => Promise<T>): Promise<T> {
  return waitUntil(
    async () => {
      try {
        return { state: "SUCCESS", value: await fn() };
      } catch (error) {
        if (K3sinfraError.is(error, "AuthFailed") && hasAzureCode(error, "Forbidden", "ForbiddenByRbac"))
          return { state: "RETRY", reason: "the vault's role assignment is not in effect yet" };
        throw error;
      }
    },
    { ...ctx.poll, signal: ctx.signal, maxWaitMs: 15 * MINUTE, description },
  );
}

/**
 * Node identity and secrets on the management plane: user-assigned managed identities (swagger:
 * msi/2024-11-30), Key Vaults with soft delete and their deleted-vault records (keyvault/2026-02-01), and role
 * assignments as extension resources on any scope (authorization/2022-04-01). The data plane is keyvault.ts.
 * Name rules: https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules
 */
import type { CloudRequest, HttpResponse } from "../../cloud.js";
import { type ArmPath, armErrors, json } from "../arm.js";
import { location, num, obj, oneOf, str, tags } from "../check.js";
import type { AzureState, DeletedVault, Kind } from "../model.js";

export const IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities";
export const VAULT = "Microsoft.KeyVault/vaults";
export const ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments";

/**
 * Built-in Key Vault data roles by their well-known ids (the same in every tenant), and what each allows here.
 * https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles/security#key-vault-secrets-user
 */
export const KEY_VAULT_ROLES: Readonly<Record<string, "read" | "write">> = {
  // Key Vault Secrets User: read secret contents.
  "4633458b-17de-408a-b874-0445c86b69e6": "read",
  // Key Vault Secrets Officer: any action on secrets except managing permissions.
  "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "write",
  // Key Vault Administrator: all data-plane operations.
  "00482a5a-887f-4fb3-b363-3b7fe8e74483": "write",
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Identity names: 3-128 letters, digits, hyphens and underscores, beginning with a letter or digit. */
const identityName = (n: string): string | undefined =>
  /^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/.test(n)
    ? undefined
    : "use 3 to 128 letters, digits, hyphens and underscores, beginning with a letter or digit";

/** Vault names: 3-24 letters, digits and hyphens, beginning with a letter, ending with a letter or digit, no `--`. */
export const vaultName = (n: string): string | undefined =>
  /^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$/.test(n) && !n.includes("--")
    ? undefined
    : "use 3 to 24 letters, digits and hyphens, beginning with a letter, ending with a letter or digit, without consecutive hyphens";

export const userAssignedIdentities: Kind = {
  type: IDENTITY,
  createMs: 5_000,
  deleteMs: 5_000,
  putStyle: "sync",
  deleteStyle: "sync",
  noProvisioningState: true,
  nameRule: identityName,
  put(body, ctx, existing) {
    return {
      location: location(body),
      tags: tags(body),
      properties: {
        tenantId: existing?.properties.tenantId ?? ctx.tenant,
        principalId: existing?.properties.principalId ?? ctx.rng.uuid(),
        clientId: existing?.properties.clientId ?? ctx.rng.uuid(),
      },
    };
  },
};

export const vaults: Kind = {
  type: VAULT,
  createMs: 20_000,
  deleteMs: 0,
  putStyle: "async",
  deleteStyle: "sync",
  nameRule: vaultName,
  put(body, ctx, existing) {
    const name = ctx.path.names.at(-1)!;
    const key = name.toLowerCase();
    // Vault names are global DNS labels (<name>.vault.azure.net), held by soft-deleted vaults too.
    const taken = ctx.list(VAULT).find((v) => v.name.toLowerCase() === key && v.id !== existing?.id);
    if (taken)
      throw armErrors.conflict(
        "VaultAlreadyExists",
        `The vault name '${name}' is already in use. Vault names are globally unique so it is possible that the name is already taken.`,
      );
    const p = obj(body, "properties");
    const createMode = oneOf(p, "createMode", ["default", "recover"]);
    if (!existing && ctx.state.deletedVaults[key] && createMode !== "recover")
      throw armErrors.conflict(
        "ConflictError",
        `A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault. Vault name: '${name}'.`,
      );
    const tenantId = str(p, "tenantId");
    if (!GUID.test(tenantId)) throw armErrors.invalid("'tenantId' must be a GUID.", "properties.tenantId");
    oneOf(p, "sku.family", ["A"], true);
    const sku = oneOf(p, "sku.name", ["standard", "premium"], true)!;
    const rbac = p.enableRbacAuthorization === true;
    if (!rbac && p.accessPolicies === undefined && !existing)
      throw armErrors.invalid(
        "The parameter accessPolicies is required when enableRbacAuthorization is false.",
        "properties.accessPolicies",
        "BadRequest",
      );
    if (p.enableSoftDelete === false)
      throw armErrors.invalid(
        "Soft delete cannot be disabled: it is on for every vault.",
        "properties.enableSoftDelete",
        "BadRequest",
      );
    const retention = num(p, "softDeleteRetentionInDays", true) ?? 90;
    if (!Number.isInteger(retention) || retention < 7 || retention > 90)
      throw armErrors.invalid(
        "softDeleteRetentionInDays must be between 7 and 90.",
        "properties.softDeleteRetentionInDays",
        "BadRequest",
      );
    const purgeProtection =
      p.enablePurgeProtection === true || existing?.properties.enablePurgeProtection === true;
    if (existing?.properties.enablePurgeProtection === true && p.enablePurgeProtection === false)
      throw armErrors.invalid(
        "Purge protection cannot be disabled once enabled.",
        "properties.enablePurgeProtection",
        "BadRequest",
      );
    if (!existing && createMode === "recover") {
      const deleted = ctx.state.deletedVaults[key];
      if (!deleted)
        throw armErrors.invalid(
          `No deleted vault '${name}' to recover.`,
          "properties.createMode",
          "NotFound",
        );
      delete ctx.state.deletedVaults[key];
    }
    return {
      location: location(body),
      tags: tags(body) ?? {},
      properties: {
        tenantId,
        sku: { family: "A", name: sku },
        accessPolicies: rbac ? [] : (p.accessPolicies ?? existing?.properties.accessPolicies ?? []),
        enabledForDeployment: p.enabledForDeployment === true,
        enabledForDiskEncryption: p.enabledForDiskEncryption === true,
        enabledForTemplateDeployment: p.enabledForTemplateDeployment === true,
        enableSoftDelete: true,
        softDeleteRetentionInDays: retention,
        enableRbacAuthorization: rbac,
        ...(purgeProtection ? { enablePurgeProtection: true } : {}),
        publicNetworkAccess: p.publicNetworkAccess ?? "Enabled",
      },
    };
  },
  // On the host the client called, as operation URLs (see keyvault.ts for why not <name>.vault.azure.net).
  view: (r, ctx) => ({ vaultUri: `${ctx.base}/keyvault/${r.name.toLowerCase()}/` }),
  afterDelete(r, ctx) {
    // Soft delete: the name stays taken and the secrets recoverable until purged or the retention ends.
    const retentionDays = Number(r.properties.softDeleteRetentionInDays ?? 90);
    ctx.state.deletedVaults[r.name.toLowerCase()] = {
      name: r.name,
      location: r.location ?? "",
      vaultId: r.id,
      deletedAt: ctx.now,
      scheduledPurgeAt: ctx.now + retentionDays * 86_400_000,
      purgeProtection: r.properties.enablePurgeProtection === true,
      tags: { ...(r.tags ?? {}) },
    };
  },
};

export const roleAssignments: Kind = {
  type: ROLE_ASSIGNMENT,
  // Assignments take effect after a while (RBAC changes propagate); the data plane checks `readyAt`.
  // https://learn.microsoft.com/en-us/azure/role-based-access-control/troubleshooting#symptom---role-assignment-changes-are-not-being-detected
  createMs: 30_000,
  deleteMs: 0,
  putStyle: "sync",
  deleteStyle: "sync",
  noProvisioningState: true,
  nameRule: (n) => (GUID.test(n) ? undefined : "the role assignment name must be a GUID"),
  put(body, ctx, existing) {
    const p = obj(body, "properties");
    const roleDefinitionId = str(p, "roleDefinitionId");
    const principalId = str(p, "principalId");
    if (!GUID.test(principalId))
      throw armErrors.invalid(
        `The principal id '${principalId}' is not a GUID.`,
        "principalId",
        "InvalidPrincipalId",
      );
    const role = roleDefinitionId.split("/").at(-1) ?? "";
    if (
      !GUID.test(role) ||
      !/\/providers\/Microsoft\.Authorization\/roleDefinitions\//i.test(roleDefinitionId)
    )
      throw armErrors.invalid(
        `The role definition id '${roleDefinitionId}' is invalid.`,
        "roleDefinitionId",
        "InvalidRoleDefinitionId",
      );
    const principalType = oneOf(p, "principalType", ["User", "Group", "ServicePrincipal", "ForeignGroup"]);
    // A new identity's service principal takes a while to replicate in Entra ID: without principalType the
    // assignment looks it up and fails until then.
    // https://learn.microsoft.com/en-us/azure/role-based-access-control/role-assignments-template#new-service-principal
    const fresh = ctx
      .list(IDENTITY)
      .find((i) => String(i.properties.principalId).toLowerCase() === principalId.toLowerCase());
    if (!principalType && fresh && ctx.now < fresh.createdAt + 30_000 * ctx.scale)
      throw armErrors.invalid(
        `Principal ${principalId.replaceAll("-", "")} does not exist in the directory ${ctx.tenant}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.`,
        "principalId",
        "PrincipalNotFound",
      );
    const scope = ctx.path.scope ?? ctx.path.id.split("/providers/Microsoft.Authorization/")[0]!;
    if (existing) {
      const same =
        String(existing.properties.principalId).toLowerCase() === principalId.toLowerCase() &&
        String(existing.properties.roleDefinitionId).split("/").at(-1)?.toLowerCase() === role.toLowerCase();
      if (!same)
        throw armErrors.conflict(
          "RoleAssignmentUpdateNotPermitted",
          "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
        );
    }
    const dup = ctx
      .list(ROLE_ASSIGNMENT, `${scope}/providers/Microsoft.Authorization`)
      .find(
        (a) =>
          a.id.toLowerCase() !== ctx.path.id.toLowerCase() &&
          String(a.properties.principalId).toLowerCase() === principalId.toLowerCase() &&
          String(a.properties.roleDefinitionId).split("/").at(-1)?.toLowerCase() === role.toLowerCase(),
      );
    if (dup) throw armErrors.conflict("RoleAssignmentExists", "The role assignment already exists.");
    return {
      properties: {
        roleDefinitionId: `/subscriptions/${ctx.path.subscription}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
        principalId,
        principalType: principalType ?? "User",
        scope,
        createdOn: new Date(ctx.now).toISOString(),
        updatedOn: new Date(ctx.now).toISOString(),
      },
    };
  },
};

const deletedView = (d: DeletedVault, sub: string) => ({
  id: `/subscriptions/${sub}/providers/Microsoft.KeyVault/locations/${d.location}/deletedVaults/${d.name}`,
  name: d.name,
  type: "Microsoft.KeyVault/deletedVaults",
  properties: {
    vaultId: d.vaultId,
    location: d.location,
    deletionDate: new Date(d.deletedAt).toISOString(),
    scheduledPurgeDate: new Date(d.scheduledPurgeAt).toISOString(),
    tags: d.tags,
    purgeProtectionEnabled: d.purgeProtection,
  },
});

/** Drops deleted vaults past their scheduled purge date, with their secrets. */
export function sweepDeletedVaults(state: AzureState, now: number): void {
  for (const [key, d] of Object.entries(state.deletedVaults))
    if (d.scheduledPurgeAt <= now) {
      delete state.deletedVaults[key];
      delete state.secrets[key];
      delete state.deletedSecrets?.[key];
    }
}

/**
 * Vaults_ListDeleted, Vaults_GetDeleted and Vaults_PurgeDeleted (a long-running operation polled through its
 * Location); `undefined` when the path is none of them.
 */
export function deletedVaultsRoute(
  req: CloudRequest,
  path: ArmPath,
  state: AzureState,
  now: number,
  newOperation: (doneAt: number) => Record<string, string>,
  rid: string,
): HttpResponse | undefined {
  if (path.namespace?.toLowerCase() !== "microsoft.keyvault" || path.resourceGroup !== undefined) return;
  const types = path.types.map((t) => t.toLowerCase());
  sweepDeletedVaults(state, now);
  if (req.method === "GET" && types.join("/") === "deletedvaults" && path.names.length === 0)
    return json(
      200,
      { value: Object.values(state.deletedVaults).map((d) => deletedView(d, path.subscription)) },
      rid,
    );
  if (types[0] !== "locations" || types[1] !== "deletedvaults" || path.names.length !== 2) return;
  const [loc, name] = path.names as [string, string];
  const d = state.deletedVaults[name.toLowerCase()];
  const missing = () =>
    json(
      404,
      {
        error: { code: "ResourceNotFound", message: `The specified deleted vault '${name}' was not found.` },
      },
      rid,
    );
  if (req.method === "GET" && types.length === 2) {
    if (!d || d.location !== loc.toLowerCase()) return missing();
    return json(200, deletedView(d, path.subscription), rid);
  }
  if (req.method === "POST" && types.length === 3 && types[2] === "purge") {
    if (!d || d.location !== loc.toLowerCase()) return missing();
    if (d.purgeProtection)
      throw armErrors.conflict(
        "ConflictError",
        `Operation 'DeleteVault' is not allowed: vault '${name}' has purge protection enabled; it is purged on ${new Date(d.scheduledPurgeAt).toISOString()}.`,
      );
    // The name is free once the purge completes; the record goes at once (a second purge finds nothing).
    delete state.deletedVaults[name.toLowerCase()];
    delete state.secrets[name.toLowerCase()];
    delete state.deletedSecrets?.[name.toLowerCase()];
    return json(202, undefined, rid, newOperation(now));
  }
  return undefined;
}

import type { SecretClient } from "@azure/keyvault-secrets";
import {
  K3sinfraError,
  NODE_WRITTEN_SECRETS,
  type ResourceContext,
  SECRET_KEYS,
  Secret,
  type SecretKey,
  type SecretStoreService,
  type SecretsSpec,
  type SecretsState,
  TAG_CLUSTER,
  type Tags,
} from "@k3sinfra/core";
import { azureCall, azureOperation, collect, orMissing } from "../call.js";
import type { AzureClients } from "../clients.js";
import { hasTags, parseId, resourceGroupOf } from "../naming.js";
import type { AzureOptions } from "../options.js";
import { AzureNodeIdentity } from "./identity.js";
import { ensureResourceGroup } from "./resource-group.js";
import {
  afterRbac,
  assignRole,
  ensureVault,
  getVault,
  purgeVault,
  SECRETS_OFFICER,
  SECRETS_USER,
  unassignRole,
  vaultNameOf,
} from "./vault.js";

/**
 * The cluster's secrets in a Key Vault of its own, in RBAC mode, tagged with the ownership tags. The nodes'
 * managed identity has "Key Vault Secrets User" on the vault (read) and "Key Vault Secrets Officer" (write:
 * server 0 stores the kubeconfig; a role can be scoped to one secret only once that secret exists, and a server
 * node holds the cluster's admin credentials anyway). The vault holds this cluster's secrets only, so the
 * nodes reach no other cluster's. In RBAC mode even the vault's creator has no data access: k3sinfra grants
 * its own principal (the token's `oid`) "Key Vault Secrets Officer" on the vault to write the values.
 * https://learn.microsoft.com/en-us/azure/key-vault/general/rbac-guide
 * A secret name as the nodes get it is `<vault>/<secret>` (the node reader splits it).
 */
export class AzureSecretStore implements SecretStoreService {
  readonly updatable = ["values"] as const satisfies readonly (keyof SecretsSpec)[];
  readonly #identity: AzureNodeIdentity;

  constructor(
    private readonly clients: AzureClients,
    private readonly options: AzureOptions,
  ) {
    this.#identity = new AzureNodeIdentity(clients, options);
  }

  #vault(cluster: string): string {
    return vaultNameOf(this.clients.settings.subscriptionId, resourceGroupOf(this.options, cluster), cluster);
  }

  nameOf(cluster: string, key: SecretKey): string {
    return `${this.#vault(cluster)}/${key}`;
  }

  native(): Promise<unknown> {
    return this.clients.keyVault();
  }

  async #client(ctx: ResourceContext): Promise<SecretClient | undefined> {
    const vault = await getVault(
      this.clients,
      resourceGroupOf(this.options, ctx.cluster),
      this.#vault(ctx.cluster),
      ctx,
    );
    const uri = vault?.properties?.vaultUri;
    return uri ? this.clients.secrets(uri) : undefined;
  }

  /** The latest version's id and value, or undefined when the secret is missing. */
  async #latest(sc: SecretClient, key: SecretKey, ctx: ResourceContext) {
    const s = await orMissing(
      afterRbac(`secret ${key} to be readable`, ctx, () =>
        azureCall(`KeyVault GetSecret (${key})`, ctx, (o) => sc.getSecret(key, o)),
      ),
    );
    return s?.value === undefined ? undefined : { version: s.properties.version ?? "", value: s.value };
  }

  async #present(sc: SecretClient, ctx: ResourceContext) {
    const present: Partial<Record<SecretKey, { version: string; value: string }>> = {};
    for (const key of SECRET_KEYS) {
      const latest = await this.#latest(sc, key, ctx);
      if (latest) present[key] = latest;
    }
    return present;
  }

  /** Deletes a secret and purges it, so its name can be set again (a soft-deleted name is taken). */
  async #deleteOne(sc: SecretClient, key: SecretKey, ctx: ResourceContext): Promise<void> {
    try {
      await afterRbac(`secret ${key} to be deletable`, ctx, () =>
        azureOperation(`KeyVault DeleteSecret (${key})`, ctx, (o) =>
          sc.beginDeleteSecret(key, { ...o, intervalInMs: 0 }),
        ),
      );
    } catch (error) {
      if (!K3sinfraError.is(error, "NotFound")) throw error;
    }
    await orMissing(
      azureCall(`KeyVault PurgeDeletedSecret (${key})`, ctx, (o) => sc.purgeDeletedSecret(key, o)),
    );
  }

  async create(spec: SecretsSpec, ctx: ResourceContext): Promise<SecretsState> {
    const rg = await ensureResourceGroup(this.clients, this.options, ctx);
    const identity = await this.#identity.ensure(ctx);
    const vault = await ensureVault(this.clients, rg, this.#vault(ctx.cluster), identity.tenantId ?? "", ctx);
    const self = await this.clients.principalId();
    await assignRole(this.clients, vault.id, self, SECRETS_OFFICER, ctx);
    // A managed identity is a service principal (possibly not replicated yet: the type skips the lookup).
    await assignRole(this.clients, vault.id, identity.principalId, SECRETS_USER, ctx, "ServicePrincipal");
    await assignRole(this.clients, vault.id, identity.principalId, SECRETS_OFFICER, ctx, "ServicePrincipal");
    const sc = await this.clients.secrets(vault.properties?.vaultUri ?? "");
    const present = await this.#present(sc, ctx);
    const names: Partial<Record<SecretKey, string>> = { kubeconfig: this.nameOf(ctx.cluster, "kubeconfig") };
    const versions: Partial<Record<SecretKey, string>> = {};
    for (const [key, value] of Object.entries(spec.values) as [SecretKey, Secret][]) {
      const after = spec.until?.[key];
      if (after !== undefined && present[after] !== undefined) {
        if (present[key]) await this.#deleteOne(sc, key, ctx);
        continue;
      }
      names[key] = this.nameOf(ctx.cluster, key);
      if (present[key]?.value === value.reveal()) {
        versions[key] = present[key].version;
        continue;
      }
      const set = await afterRbac(`secret ${key} to be writable`, ctx, () =>
        azureCall(`KeyVault SetSecret (${key})`, ctx, (o) => sc.setSecret(key, value.reveal(), o), [
          value.reveal(),
        ]),
      );
      versions[key] = set.properties.version ?? "";
    }
    for (const key of SECRET_KEYS.filter((k) => !NODE_WRITTEN_SECRETS.has(k) && !(k in spec.values)))
      if (present[key] !== undefined) await this.#deleteOne(sc, key, ctx);
    return {
      id: vault.id,
      names,
      versions,
      ...(present.kubeconfig ? { nodeWritten: { kubeconfig: present.kubeconfig.version } } : {}),
    };
  }

  update(_state: SecretsState, spec: SecretsSpec, ctx: ResourceContext): Promise<SecretsState> {
    return this.create(spec, ctx);
  }

  async read(state: SecretsState, ctx: ResourceContext): Promise<SecretsState | undefined> {
    const sc = await this.#client(ctx);
    if (!sc) return undefined;
    const present = await this.#present(sc, ctx);
    const managed = SECRET_KEYS.filter((k) => !NODE_WRITTEN_SECRETS.has(k));
    if (managed.every((k) => present[k] === undefined)) return undefined;
    const versions = Object.fromEntries(
      managed.filter((k) => present[k]).map((k) => [k, present[k]!.version]),
    );
    return {
      id: state.id,
      names: state.names,
      versions,
      ...(present.kubeconfig ? { nodeWritten: { kubeconfig: present.kubeconfig.version } } : {}),
    };
  }

  async reveal(key: SecretKey, ctx: ResourceContext): Promise<Secret | undefined> {
    const sc = await this.#client(ctx);
    const latest = sc ? await this.#latest(sc, key, ctx) : undefined;
    return latest === undefined ? undefined : new Secret(latest.value);
  }

  /**
   * Role assignments first, then the vault: deleted (soft delete) and purged, so its name is free at once and
   * no secret outlives the cluster. Only a vault whose tags name this cluster (one k3sinfra made) is touched.
   * The identity goes with the network, after the nodes.
   */
  async delete(_state: SecretsState, ctx: ResourceContext): Promise<void> {
    const rg = resourceGroupOf(this.options, ctx.cluster);
    const name = this.#vault(ctx.cluster);
    const kv = await this.clients.keyVault();
    const vault = await getVault(this.clients, rg, name, ctx);
    if (vault?.id) {
      if (!hasTags(vault.tags, { [TAG_CLUSTER]: ctx.cluster })) return;
      const identity = await this.#identity.get(ctx);
      const self = await this.clients.principalId();
      if (identity?.principalId) {
        await unassignRole(this.clients, vault.id, identity.principalId, SECRETS_OFFICER, ctx);
        await unassignRole(this.clients, vault.id, identity.principalId, SECRETS_USER, ctx);
      }
      await unassignRole(this.clients, vault.id, self, SECRETS_OFFICER, ctx);
      await orMissing(
        azureCall(`KeyVault Vaults_Delete (${name})`, ctx, (o) => kv.vaults.delete(rg, name, o)),
      );
    }
    const deleted = await orMissing(
      azureCall(`KeyVault Vaults_GetDeleted (${name})`, ctx, (o) =>
        kv.vaults.getDeleted(name, ctx.region, o),
      ),
    );
    if (deleted && hasTags(deleted.properties?.tags, { [TAG_CLUSTER]: ctx.cluster }))
      await purgeVault(this.clients, name, ctx);
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<SecretsState[]> {
    const rg = resourceGroupOf(this.options, ctx.cluster);
    const kv = await this.clients.keyVault();
    const vaults = await orMissing(
      azureCall(`KeyVault Vaults_ListByResourceGroup (${rg})`, ctx, () =>
        collect(kv.vaults.listByResourceGroup(rg)),
      ),
    );
    return (vaults ?? [])
      .filter((v) => v.id && hasTags(v.tags, tags))
      .map((v) => {
        const vault = parseId(v.id ?? "").name;
        return {
          id: v.id ?? "",
          names: Object.fromEntries(SECRET_KEYS.map((k) => [k, `${vault}/${k}`])),
          versions: {},
        };
      });
  }
}

import {
  NODE_WRITTEN_SECRETS,
  ProviderError,
  type ResourceContext,
  SECRET_KEYS,
  Secret,
  type SecretKey,
  type SecretStoreService,
  type SecretsSpec,
  type SecretsState,
  type Tags,
} from "@k3sinfra/core";
import { gcpCall, ONE_ATTEMPT } from "../call.js";
import type { GcpClients } from "../clients.js";
import { httpStatusOf } from "../errors.js";
import { hasLabels, toLabels } from "../labels.js";
import { GcpNodeIdentity } from "./identity.js";

/** Secret ids of a cluster: `k3sinfra-<cluster>-<key>`. */
export const secretPrefix = (cluster: string): string => `k3sinfra-${cluster}-`;

/**
 * The cluster's secrets in Secret Manager, labelled with its ownership tags. Each secret's IAM policy lets the
 * cluster's node service account read it (`roles/secretmanager.secretAccessor`), and only add versions to the
 * kubeconfig (`roles/secretmanager.secretVersionAdder`), so the nodes' identity reaches this cluster's secrets
 * and no other (https://cloud.google.com/secret-manager/docs/manage-access-to-secrets). Values are compared
 * before a version is added, so an unchanged `up` adds none.
 */
export class GcpSecretStore implements SecretStoreService {
  readonly updatable = ["values"] as const satisfies readonly (keyof SecretsSpec)[];
  readonly #identity: GcpNodeIdentity;

  constructor(private readonly clients: GcpClients) {
    this.#identity = new GcpNodeIdentity(clients);
  }

  nameOf(cluster: string, key: SecretKey): string {
    return `${secretPrefix(cluster)}${key}`;
  }

  native(): Promise<unknown> {
    return this.clients.secrets();
  }

  async #path(cluster: string, key: SecretKey): Promise<string> {
    return `projects/${await this.clients.project()}/secrets/${this.nameOf(cluster, key)}`;
  }

  /** The latest enabled version's number and value, or undefined when the secret or a version is missing. */
  async #latest(name: string, ctx: ResourceContext): Promise<{ version: string; value: string } | undefined> {
    const sm = await this.clients.secrets();
    try {
      const [v] = await gcpCall(`Secret Manager versions.access (${name.split("/").pop()})`, ctx, () =>
        sm.accessSecretVersion({ name: `${name}/versions/latest` }, ONE_ATTEMPT),
      );
      const data = v.payload?.data;
      return {
        version: (v.name ?? "").split("/").pop() ?? "",
        value:
          typeof data === "string"
            ? Buffer.from(data, "base64").toString("utf8")
            : Buffer.from(data ?? []).toString("utf8"),
      };
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Makes the secret (or adopts this cluster's) and grants the nodes what they need on it. */
  async #ensureSecret(name: string, key: SecretKey, node: string, ctx: ResourceContext): Promise<void> {
    const sm = await this.clients.secrets();
    const project = await this.clients.project();
    const id = name.split("/").pop() ?? "";
    try {
      await gcpCall(`Secret Manager secrets.create (${id})`, ctx, () =>
        sm.createSecret(
          {
            parent: `projects/${project}`,
            secretId: id,
            secret: { replication: { automatic: {} }, labels: toLabels(ctx.tags) },
          },
          ONE_ATTEMPT,
        ),
      );
    } catch (error) {
      if (httpStatusOf(error) !== 409) throw error;
      const [existing] = await gcpCall(`Secret Manager secrets.get (${id})`, ctx, () =>
        sm.getSecret({ name }, ONE_ATTEMPT),
      );
      if (!hasLabels(existing.labels, { "k3sinfra:cluster": ctx.cluster }))
        throw new ProviderError(
          `Not touching secret ${id}: its labels name another k3sinfra cluster (or none), not '${ctx.cluster}'.`,
        );
    }
    const role = NODE_WRITTEN_SECRETS.has(key)
      ? "roles/secretmanager.secretVersionAdder"
      : "roles/secretmanager.secretAccessor";
    await gcpCall(`Secret Manager secrets.setIamPolicy (${id})`, ctx, () =>
      sm.setIamPolicy(
        { resource: name, policy: { bindings: [{ role, members: [`serviceAccount:${node}`] }] } },
        ONE_ATTEMPT,
      ),
    );
  }

  async create(spec: SecretsSpec, ctx: ResourceContext): Promise<SecretsState> {
    const sm = await this.clients.secrets();
    const node = await this.#identity.ensure(ctx);
    const present: Partial<Record<SecretKey, string>> = {};
    for (const key of SECRET_KEYS) {
      const latest = await this.#latest(await this.#path(ctx.cluster, key), ctx);
      if (latest) present[key] = latest.version;
    }
    const names: Partial<Record<SecretKey, string>> = { kubeconfig: this.nameOf(ctx.cluster, "kubeconfig") };
    const versions: Partial<Record<SecretKey, string>> = {};
    await this.#ensureSecret(await this.#path(ctx.cluster, "kubeconfig"), "kubeconfig", node, ctx);
    for (const [key, value] of Object.entries(spec.values) as [SecretKey, Secret][]) {
      const path = await this.#path(ctx.cluster, key);
      const after = spec.until?.[key];
      if (after !== undefined && present[after] !== undefined) {
        await this.#deleteOne(path, ctx);
        continue;
      }
      names[key] = this.nameOf(ctx.cluster, key);
      await this.#ensureSecret(path, key, node, ctx);
      const latest = await this.#latest(path, ctx);
      if (latest?.value === value.reveal()) {
        versions[key] = latest.version;
        continue;
      }
      const [added] = await gcpCall(
        `Secret Manager secrets.addVersion (${names[key]})`,
        ctx,
        () =>
          sm.addSecretVersion(
            { parent: path, payload: { data: Buffer.from(value.reveal(), "utf8") } },
            ONE_ATTEMPT,
          ),
        [value.reveal()],
      );
      versions[key] = (added.name ?? "").split("/").pop() ?? "";
    }
    for (const key of SECRET_KEYS.filter((k) => !NODE_WRITTEN_SECRETS.has(k) && !(k in spec.values)))
      if (present[key] !== undefined) await this.#deleteOne(await this.#path(ctx.cluster, key), ctx);
    return {
      id: secretPrefix(ctx.cluster),
      names,
      versions,
      ...(present.kubeconfig ? { nodeWritten: { kubeconfig: present.kubeconfig } } : {}),
    };
  }

  update(_state: SecretsState, spec: SecretsSpec, ctx: ResourceContext): Promise<SecretsState> {
    return this.create(spec, ctx);
  }

  async read(state: SecretsState, ctx: ResourceContext): Promise<SecretsState | undefined> {
    const present: Partial<Record<SecretKey, string>> = {};
    for (const key of SECRET_KEYS) {
      const latest = await this.#latest(await this.#path(ctx.cluster, key), ctx);
      if (latest) present[key] = latest.version;
    }
    const managed = SECRET_KEYS.filter((k) => !NODE_WRITTEN_SECRETS.has(k));
    if (managed.every((k) => present[k] === undefined)) return undefined;
    const versions = Object.fromEntries(managed.filter((k) => present[k]).map((k) => [k, present[k]]));
    return {
      id: state.id,
      names: state.names,
      versions,
      ...(present.kubeconfig ? { nodeWritten: { kubeconfig: present.kubeconfig } } : {}),
    };
  }

  async reveal(key: SecretKey, ctx: ResourceContext): Promise<Secret | undefined> {
    const latest = await this.#latest(await this.#path(ctx.cluster, key), ctx);
    return latest === undefined ? undefined : new Secret(latest.value);
  }

  async #deleteOne(name: string, ctx: ResourceContext): Promise<void> {
    const sm = await this.clients.secrets();
    try {
      await gcpCall(`Secret Manager secrets.delete (${name.split("/").pop()})`, ctx, () =>
        sm.deleteSecret({ name }, ONE_ATTEMPT),
      );
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
    }
  }

  /** Every secret of this cluster (by label), the kubeconfig included. */
  async #owned(tags: Tags, ctx: ResourceContext): Promise<{ name?: string | null }[]> {
    const sm = await this.clients.secrets();
    const parent = `projects/${await this.clients.project()}`;
    const [list] = await gcpCall("Secret Manager secrets.list", ctx, () =>
      sm.listSecrets({ parent }, ONE_ATTEMPT),
    );
    return list.filter((s) => hasLabels(s.labels, tags));
  }

  async delete(_state: SecretsState, ctx: ResourceContext): Promise<void> {
    for (const s of await this.#owned({ "k3sinfra:cluster": ctx.cluster }, ctx))
      if (s.name) await this.#deleteOne(s.name, ctx);
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<SecretsState[]> {
    const found = await this.#owned(tags, ctx);
    if (found.length === 0) return [];
    const byCluster = new Map<string, string[]>();
    for (const s of found) {
      const id = (s.name ?? "").split("/").pop() ?? "";
      const m =
        /^k3sinfra-(.+)-(k3s-token|datastore-password|datastore-admin-password|rancher-bootstrap-password|kubeconfig)$/.exec(
          id,
        );
      if (m) byCluster.set(m[1]!, [...(byCluster.get(m[1]!) ?? []), m[2]!]);
    }
    return [...byCluster].map(([cluster, keys]) => ({
      id: secretPrefix(cluster),
      names: Object.fromEntries(keys.map((k) => [k, `${secretPrefix(cluster)}${k}`])),
      versions: {},
    }));
  }
}

import type { NodeSecretReader } from "../bootstrap/index.js";
import type { ResourceContext, Tags } from "../resources/common.js";
import type { SecretKey, SecretStoreService, SecretsSpec, SecretsState } from "../resources/secret-store.js";
import { SECRET_KEYS } from "../resources/secret-store.js";
import { Secret } from "../secret.js";
import type { MemoryCloud } from "./memory-cloud.js";

/** The fake node-side reader: the memory cloud "mounts" its secrets as files on the (imaginary) node. */
export const memorySecretReader: NodeSecretReader = {
  files: [],
  functions: [
    'k3sinfra_secret() { cat "/var/lib/k3sinfra/secrets/$1"; }',
    'k3sinfra_secret_put() { cat >"/var/lib/k3sinfra/secrets/$1"; }',
  ].join("\n"),
};

/**
 * A secret store in the fake cloud: one object per secret under `/k3sinfra/<cluster>/`, with a version that
 * grows on every change, as a parameter store's does.
 */
export class MemorySecrets implements SecretStoreService {
  readonly updatable = ["values"] as const;
  readonly #cloud: MemoryCloud;

  constructor(cloud: MemoryCloud) {
    this.#cloud = cloud;
  }

  nameOf(cluster: string, key: SecretKey): string {
    return `/k3sinfra/${cluster}/${key}`;
  }

  #find(name: string) {
    return [...this.#cloud.objects.values()].find((o) => o.kind === "secret" && o.name === name);
  }

  #versions(cluster: string): Partial<Record<SecretKey, string>> {
    return Object.fromEntries(
      SECRET_KEYS.map((k) => [
        k,
        this.#find(this.nameOf(cluster, k))?.data.version as string | undefined,
      ]).filter(([, v]) => v !== undefined),
    );
  }

  /** Writes a secret as a node would (server 0's kubeconfig), for tests. */
  putAsNode(cluster: string, key: SecretKey, value: string): void {
    const name = this.nameOf(cluster, key);
    const found = this.#find(name);
    if (found) found.data = { value, version: String(Number(found.data.version) + 1) };
    else this.#cloud.put("secret", name, `node:${name}`, {}, { value, version: "1" });
  }

  async create(spec: SecretsSpec, ctx: ResourceContext): Promise<SecretsState> {
    return this.#cloud.mutate("create", "secret", () => {
      const present = this.#versions(ctx.cluster);
      for (const [key, value] of Object.entries(spec.values) as [SecretKey, Secret][]) {
        const name = this.nameOf(ctx.cluster, key);
        const until = spec.until?.[key];
        const found = this.#find(name);
        if (until !== undefined && present[until] !== undefined) {
          if (found) this.#cloud.objects.delete(found.id);
          continue;
        }
        if (!found)
          this.#cloud.put(
            "secret",
            name,
            `${ctx.idempotencyToken}:${key}`,
            { ...ctx.tags },
            {
              value: value.reveal(),
              version: "1",
            },
          );
        else if (found.data.value !== value.reveal())
          found.data = { value: value.reveal(), version: String(Number(found.data.version) + 1) };
      }
      return this.#stateOf(ctx.cluster);
    });
  }

  #stateOf(cluster: string): SecretsState {
    const { kubeconfig, ...versions } = this.#versions(cluster);
    return {
      id: `/k3sinfra/${cluster}/`,
      names: Object.fromEntries(SECRET_KEYS.map((k) => [k, this.nameOf(cluster, k)])),
      versions,
      ...(kubeconfig ? { nodeWritten: { kubeconfig } } : {}),
    };
  }

  update(_state: SecretsState, spec: SecretsSpec, ctx: ResourceContext): Promise<SecretsState> {
    return this.create(spec, ctx);
  }

  async read(state: SecretsState, ctx: ResourceContext): Promise<SecretsState | undefined> {
    this.#cloud.read("read", "secret");
    const live = this.#stateOf(ctx.cluster);
    const managed = SECRET_KEYS.filter((k) => k !== "kubeconfig");
    return managed.some((k) => live.versions[k] !== undefined) ? { ...live, id: state.id } : undefined;
  }

  async reveal(key: SecretKey, ctx: ResourceContext): Promise<Secret | undefined> {
    this.#cloud.read("reveal", "secret");
    const value = this.#find(this.nameOf(ctx.cluster, key))?.data.value;
    return typeof value === "string" ? new Secret(value) : undefined;
  }

  async delete(state: SecretsState): Promise<void> {
    this.#cloud.mutate("delete", "secret", () => {
      for (const o of [...this.#cloud.objects.values()])
        if (o.kind === "secret" && o.name.startsWith(state.id)) this.#cloud.objects.delete(o.id);
    });
  }

  async findByTags(tags: Tags): Promise<SecretsState[]> {
    this.#cloud.read("find", "secret");
    const found = this.#cloud.withTags(tags, "secret");
    const clusters = new Set(found.map((o) => o.name.split("/")[2] ?? ""));
    return [...clusters].map((c) => this.#stateOf(c));
  }

  async native(): Promise<unknown> {
    return this.#cloud;
  }
}

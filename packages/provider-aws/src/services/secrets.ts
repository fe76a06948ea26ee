import type { SSM } from "@aws-sdk/client-ssm";
import {
  NODE_WRITTEN_SECRETS,
  type ResourceContext,
  SECRET_KEYS,
  Secret,
  type SecretKey,
  type SecretStoreService,
  type SecretsSpec,
  type SecretsState,
  type Tags,
} from "@k3sinfra/core";
import { awsCall, collectPages } from "../call.js";
import type { AwsClients } from "../clients.js";
import { hasAwsCode } from "../errors.js";
import { assertOwned } from "../ownership.js";
import { tagList, tagRecord } from "../tags.js";

/** Where a cluster's parameters live; the node role may read exactly this path. */
export const parameterPrefix = (cluster: string): string => `/k3sinfra/${cluster}/`;

/** The versions of the node-written parameters present, as `SecretsState.nodeWritten`. */
const nodeWrittenOf = (present: Partial<Record<SecretKey, string>>) => {
  const written = [...NODE_WRITTEN_SECRETS].filter((k) => present[k] !== undefined);
  return written.length > 0 ? { nodeWritten: Object.fromEntries(written.map((k) => [k, present[k]])) } : {};
};

/**
 * The cluster's secrets as SSM Parameter Store `SecureString`s under `/k3sinfra/<cluster>/`, encrypted with
 * the account's AWS managed key `alias/aws/ssm`, whose key policy lets principals of the account use it
 * through SSM, so the node role needs no KMS statement
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html). Values are
 * compared before they are written, so an unchanged `up` adds no parameter version.
 */
export class AwsSecretStore implements SecretStoreService {
  readonly updatable = ["values"] as const satisfies readonly (keyof SecretsSpec)[];
  readonly #clients: AwsClients;

  constructor(clients: AwsClients) {
    this.#clients = clients;
  }

  nameOf(cluster: string, key: SecretKey): string {
    return `${parameterPrefix(cluster)}${key}`;
  }

  native(): Promise<SSM> {
    return this.#clients.ssm();
  }

  async create(spec: SecretsSpec, ctx: ResourceContext): Promise<SecretsState> {
    const ssm = await this.#clients.ssm();
    const present = await this.#versions(ssm, ctx.cluster, SECRET_KEYS, ctx);
    const versions: Partial<Record<SecretKey, string>> = {};
    const names: Partial<Record<SecretKey, string>> = { kubeconfig: this.nameOf(ctx.cluster, "kubeconfig") };
    const values = Object.entries(spec.values) as [SecretKey, Secret][];
    for (const [key, value] of values) {
      const name = this.nameOf(ctx.cluster, key);
      const after = spec.until?.[key];
      // Kept only until another secret exists (the admin password until the kubeconfig): then retired.
      if (after !== undefined && present[after] !== undefined) {
        await this.#deleteOne(ssm, name, ctx);
        continue;
      }
      names[key] = name;
      versions[key] = await this.#put(ssm, name, value, ctx);
    }
    // A key no longer wanted leaves the store.
    for (const key of SECRET_KEYS.filter((k) => !NODE_WRITTEN_SECRETS.has(k) && !(k in spec.values)))
      if (present[key] !== undefined) await this.#deleteOne(ssm, this.nameOf(ctx.cluster, key), ctx);
    return { id: parameterPrefix(ctx.cluster), names, versions, ...nodeWrittenOf(present) };
  }

  /** The versions of the cluster's parameters that exist, by short name (one call, no decryption). */
  async #versions(
    ssm: SSM,
    cluster: string,
    keys: readonly SecretKey[],
    ctx: ResourceContext,
  ): Promise<Partial<Record<SecretKey, string>>> {
    const out = await awsCall(`SSM GetParameters (${parameterPrefix(cluster)})`, ctx, (o) =>
      ssm.getParameters({ Names: keys.map((k) => this.nameOf(cluster, k)) }, o),
    );
    const found = new Map((out.Parameters ?? []).map((p) => [p.Name, String(p.Version ?? 1)]));
    return Object.fromEntries(
      keys
        .filter((k) => found.has(this.nameOf(cluster, k)))
        .map((k) => [k, found.get(this.nameOf(cluster, k))]),
    );
  }

  update(_state: SecretsState, spec: SecretsSpec, ctx: ResourceContext): Promise<SecretsState> {
    return this.create(spec, ctx);
  }

  /** Writes one value unless it is already there; returns the parameter's version. */
  async #put(ssm: SSM, name: string, value: Secret, ctx: ResourceContext): Promise<string> {
    const secret = [value.reveal()];
    const current = await awsCall(
      `SSM GetParameter (${name})`,
      ctx,
      (o) => ssm.getParameter({ Name: name, WithDecryption: true }, o),
      secret,
    ).catch((error: unknown) => {
      if (hasAwsCode(error, "ParameterNotFound")) return undefined;
      throw error;
    });
    if (current?.Parameter) {
      await this.#assertOwned(ssm, name, ctx);
      if (current.Parameter.Value === value.reveal()) return String(current.Parameter.Version ?? 1);
      const out = await awsCall(
        `SSM PutParameter (${name})`,
        ctx,
        (o) =>
          ssm.putParameter({ Name: name, Value: value.reveal(), Type: "SecureString", Overwrite: true }, o),
        secret,
      );
      return String(out.Version ?? 1);
    }
    // Tags may only be given on creation, not with Overwrite
    // (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html).
    const out = await awsCall(
      `SSM PutParameter (${name})`,
      ctx,
      (o) =>
        ssm.putParameter(
          {
            Name: name,
            Value: value.reveal(),
            Type: "SecureString",
            Description: `k3sinfra cluster ${ctx.cluster}: ${name.slice(name.lastIndexOf("/") + 1)}`,
            Tags: tagList(ctx.tags),
          },
          o,
        ),
      secret,
    ).catch(async (error: unknown) => {
      // A crash after the first put: the parameter is ours with the same value, or gets overwritten.
      if (!hasAwsCode(error, "ParameterAlreadyExists")) throw error;
      await this.#assertOwned(ssm, name, ctx);
      return awsCall(
        `SSM PutParameter (${name})`,
        ctx,
        (o) =>
          ssm.putParameter({ Name: name, Value: value.reveal(), Type: "SecureString", Overwrite: true }, o),
        secret,
      );
    });
    return String(out.Version ?? 1);
  }

  async #assertOwned(ssm: SSM, name: string, ctx: ResourceContext): Promise<void> {
    const tags = await awsCall(`SSM ListTagsForResource (${name})`, ctx, (o) =>
      ssm.listTagsForResource({ ResourceType: "Parameter", ResourceId: name }, o),
    );
    assertOwned(tagRecord(tags.TagList), ctx, `parameter ${name}`);
  }

  async read(state: SecretsState, ctx: ResourceContext): Promise<SecretsState | undefined> {
    const ssm = await this.#clients.ssm();
    const present = await this.#versions(ssm, ctx.cluster, SECRET_KEYS, ctx);
    const managed = SECRET_KEYS.filter((k) => !NODE_WRITTEN_SECRETS.has(k));
    if (managed.every((k) => present[k] === undefined)) return undefined;
    const versions = Object.fromEntries(managed.filter((k) => present[k]).map((k) => [k, present[k]]));
    return { id: state.id, names: state.names, versions, ...nodeWrittenOf(present) };
  }

  async reveal(key: SecretKey, ctx: ResourceContext): Promise<Secret | undefined> {
    const ssm = await this.#clients.ssm();
    const name = this.nameOf(ctx.cluster, key);
    const out = await awsCall(`SSM GetParameter (${name})`, ctx, (o) =>
      ssm.getParameter({ Name: name, WithDecryption: true }, o),
    ).catch((error: unknown) => {
      if (hasAwsCode(error, "ParameterNotFound")) return undefined;
      throw error;
    });
    const value = out?.Parameter?.Value;
    return value === undefined ? undefined : new Secret(value);
  }

  /** Every parameter under the cluster's path, including the kubeconfig server 0 wrote. */
  async #under(ssm: SSM, prefix: string, ctx: ResourceContext): Promise<string[]> {
    const params = await collectPages(
      (NextToken) =>
        awsCall(`SSM GetParametersByPath (${prefix})`, ctx, (o) =>
          ssm.getParametersByPath({ Path: prefix, Recursive: true, NextToken }, o),
        ),
      (p) => p.Parameters,
      (p) => p.NextToken,
    );
    return params.map((p) => p.Name).filter((n): n is string => n !== undefined);
  }

  async #deleteOne(ssm: SSM, name: string, ctx: ResourceContext): Promise<void> {
    await awsCall(`SSM DeleteParameter (${name})`, ctx, (o) => ssm.deleteParameter({ Name: name }, o)).catch(
      (error: unknown) => {
        if (!hasAwsCode(error, "ParameterNotFound")) throw error;
      },
    );
  }

  async delete(state: SecretsState, ctx: ResourceContext): Promise<void> {
    const ssm = await this.#clients.ssm();
    const names = new Set<string>([
      ...(Object.values(state.names) as string[]),
      ...(await this.#under(ssm, state.id, ctx)),
    ]);
    for (const name of names) {
      if (!name) continue;
      // The kubeconfig is written by the node without tags; the others must be ours.
      if (!name.endsWith("/kubeconfig"))
        await this.#assertOwned(ssm, name, ctx).catch((error: unknown) => {
          if (!hasAwsCode(error, "InvalidResourceId", "ParameterNotFound")) throw error;
        });
      await this.#deleteOne(ssm, name, ctx);
    }
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<SecretsState[]> {
    const ssm = await this.#clients.ssm();
    const found = await collectPages(
      (NextToken) =>
        awsCall(`SSM DescribeParameters`, ctx, (o) =>
          ssm.describeParameters(
            {
              ParameterFilters: [
                { Key: "Path", Option: "Recursive", Values: ["/k3sinfra"] },
                ...Object.entries(tags).map(([k, v]) => ({ Key: `tag:${k}`, Values: [v] })),
              ],
              NextToken,
            },
            o,
          ),
        ),
      (p) => p.Parameters,
      (p) => p.NextToken,
    );
    const byPrefix = new Map<string, SecretsState>();
    for (const p of found) {
      const name = p.Name ?? "";
      const key = name.slice(name.lastIndexOf("/") + 1) as SecretKey;
      const prefix = name.slice(0, name.lastIndexOf("/") + 1);
      const s = byPrefix.get(prefix) ?? { id: prefix, names: {}, versions: {} };
      byPrefix.set(prefix, {
        ...s,
        names: { ...s.names, [key]: name },
        versions: { ...s.versions, [key]: String(p.Version ?? 1) },
      });
    }
    return [...byPrefix.values()];
  }
}

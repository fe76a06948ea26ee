import { ProviderError, type ResourceContext, TAG_CLUSTER } from "@k3sinfra/core";

/**
 * The ownership tags this context compares: the cluster name and any other `k3sinfra:cluster…` key the
 * context carries (a cluster id, say). `k3sinfra:resource` and `k3sinfra:managed-by` say nothing about which
 * cluster owns an object.
 */
const ownershipKeys = (ctx: Pick<ResourceContext, "cluster" | "tags">): [string, string][] => [
  [TAG_CLUSTER, ctx.cluster],
  ...Object.entries(ctx.tags).filter(([k]) => k !== TAG_CLUSTER && k.startsWith(`${TAG_CLUSTER}-`)),
];

/** The cluster named by an object's tags when it is not this context's cluster; `undefined` when ours or untagged. */
export const foreignOwner = (
  actual: Readonly<Record<string, string>>,
  ctx: Pick<ResourceContext, "cluster" | "tags">,
): string | undefined => {
  for (const [key, mine] of ownershipKeys(ctx)) {
    const theirs = actual[key];
    if (theirs !== undefined && theirs !== mine)
      return key === TAG_CLUSTER ? theirs : `${actual[TAG_CLUSTER] ?? ctx.cluster} (${key}=${theirs})`;
  }
  return undefined;
};

/**
 * Refuses to touch an object whose ownership tags name another cluster. An object without the tags (made
 * before tagging, or by hand under our name) is left to the caller's other checks.
 * @param what names the object in the error, e.g. `security group sg-1`.
 */
export function assertOwned(
  actual: Readonly<Record<string, string>>,
  ctx: Pick<ResourceContext, "cluster" | "tags">,
  what: string,
): void {
  const owner = foreignOwner(actual, ctx);
  if (owner !== undefined)
    throw new ProviderError(
      `Not touching ${what}: its ownership tags name k3sinfra cluster '${owner}', not '${ctx.cluster}'. Check that the config's name and state path belong to this cluster.`,
    );
}

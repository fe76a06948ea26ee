import { ProviderError, type ResourceContext, TAG_CLUSTER, type Tags } from "@k3sinfra/core";
import type { AzureOptions } from "./options.js";

/** The resource group a cluster builds in: the given one, or `k3sinfra-<cluster>` (made and deleted by k3sinfra). */
export const resourceGroupOf = (options: AzureOptions, cluster: string): string =>
  options.resourceGroup ?? `k3sinfra-${cluster}`;

/** Whether k3sinfra owns the resource group (made it, so deletes it). */
export const ownsResourceGroup = (options: AzureOptions): boolean => options.resourceGroup === undefined;

/** The parts of an ARM id: `/subscriptions/s/resourceGroups/rg/providers/ns/type/name…`. */
export function parseId(id: string): { resourceGroup: string; name: string } {
  const seg = id.split("/");
  const rg = seg.findIndex((s) => s.toLowerCase() === "resourcegroups");
  return { resourceGroup: rg >= 0 ? (seg[rg + 1] ?? "") : "", name: seg.at(-1) ?? "" };
}

/** True when `actual` carries every tag of `wanted` (Azure compares tag names case-insensitively). */
export const hasTags = (actual: Readonly<Record<string, string>> | undefined, wanted: Tags): boolean => {
  const lower = new Map(Object.entries(actual ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.entries(wanted).every(([k, v]) => lower.get(k.toLowerCase()) === v);
};

/**
 * Refuses to touch an object whose ownership tag names another cluster: destroy never reaches another
 * cluster's objects, even under a shared resource group.
 */
export function assertOwned(
  actual: Readonly<Record<string, string>> | undefined,
  ctx: Pick<ResourceContext, "cluster">,
  what: string,
): void {
  const owner = Object.entries(actual ?? {}).find(([k]) => k.toLowerCase() === TAG_CLUSTER)?.[1];
  if (owner !== undefined && owner !== ctx.cluster)
    throw new ProviderError(
      `Not touching ${what}: its ownership tags name k3sinfra cluster '${owner}', not '${ctx.cluster}'. Check that the config's name and state path belong to this cluster.`,
    );
}

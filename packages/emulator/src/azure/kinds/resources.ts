/** Microsoft.Resources resource groups (swagger: resources/2025-04-01/resources.json, ResourceGroups_*). */
import { location, resourceGroupName, tags } from "../check.js";
import type { Kind } from "../model.js";
import { VAULT, vaults } from "./keyvault.js";

export const RESOURCE_GROUP = "Microsoft.Resources/resourceGroups";

export const resourceGroups: Kind = {
  type: RESOURCE_GROUP,
  createMs: 0,
  // Deleting a group deletes what it holds: the slowest part of a teardown.
  deleteMs: 30_000,
  putStyle: "sync",
  // ResourceGroups_Delete answers 202 with a Location to poll (no Azure-AsyncOperation).
  deleteStyle: "location",
  nameRule: resourceGroupName,
  put: (body) => ({ location: location(body), tags: tags(body) ?? {}, properties: {} }),
  // The vaults in it are soft-deleted as if deleted one by one: their names stay taken until purged.
  afterDelete(r, ctx) {
    for (const v of Object.values(ctx.state.resources))
      if (v.type === VAULT && v.id.toLowerCase().startsWith(`${r.id.toLowerCase()}/`))
        vaults.afterDelete?.(v, ctx);
  },
};

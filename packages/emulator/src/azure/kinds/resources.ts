/** Microsoft.Resources resource groups (swagger: resources/2025-04-01/resources.json, ResourceGroups_*). */
import { location, resourceGroupName, tags } from "../check.js";
import type { Kind } from "../model.js";

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
};

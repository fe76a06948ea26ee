import { createHash } from "node:crypto";
import type { Tags } from "./resources/common.js";

/** Tag keys that mark what k3sinfra owns. Providers whose clouds forbid `:` in keys (label keys) map them. */
export const TAG_MANAGED_BY = "k3sinfra:managed-by";
export const TAG_CLUSTER = "k3sinfra:cluster";
export const TAG_RESOURCE = "k3sinfra:resource";
/** The random id of one cluster's state, so two clusters that share a name never match each other's tags. */
export const TAG_CLUSTER_ID = "k3sinfra:cluster-id";

/** Tags that identify every object of one cluster; the destroy sweep looks for exactly these. */
export const clusterTags = (cluster: string): Tags => ({
  [TAG_MANAGED_BY]: "k3sinfra",
  [TAG_CLUSTER]: cluster,
});

/** Tags for one resource of a cluster. */
export const resourceTags = (cluster: string, resource: string): Tags => ({
  ...clusterTags(cluster),
  [TAG_RESOURCE]: resource,
});

/** Short suffixes keep physical names within the 32 characters clouds allow load balancer and target group names. */
const SUFFIX: Readonly<Record<string, string>> = {
  network: "net",
  datastore: "db",
  "load-balancer": "lb",
  "lb-targets": "tg",
  "dns-record": "dns",
};

/** The generation mark of a replacement's name: nodes `-g<n>`; the load balancer one base-36 digit. */
const generationMark = (resource: string, generation: number): string => {
  if (generation <= 0) return "";
  if (resource.startsWith("node-")) return `-g${generation}`;
  // Load balancer and target group names stop at 32 characters, so the LB gets one character: consecutive generations
  // (the only two that ever live at once) always differ in it.
  if (resource === "load-balancer") return (generation % 36).toString(36);
  return "";
};

/**
 * Deterministic physical name: `k3s-<cluster>-<suffix>`, at most 27 characters for a 20-character cluster
 * name, so providers can append `-80` or `-443` and stay within 32. Nodes and the load balancer are replaced
 * create-before-destroy, so from generation 1 on their names carry a mark (`k3s-x-n1-g1`, `k3s-x-lb1`):
 * the successor never collides with its predecessor, on clouds whose names are unique per account or project.
 */
export const physicalName = (cluster: string, resource: string, generation = 0): string =>
  `k3s-${cluster}-${SUFFIX[resource] ?? resource.replace(/^node-/, "n")}${generationMark(resource, generation)}`;

/**
 * Idempotency token for one resource generation. The state's lineage (a random id made when the state is
 * created) is part of it, so a cluster destroyed and created again under the same name never replays an
 * old token (a cloud may remember a client token after the instance it created is gone).
 */
export const idempotencyToken = (lineage: string, resource: string, generation: number): string =>
  createHash("sha256").update(`${lineage}/${resource}/${generation}`).digest("hex").slice(0, 32);

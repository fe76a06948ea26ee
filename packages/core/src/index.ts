// The public surface of @k3sinfra/core. Importing it loads no cloud SDK.
// tsyringe needs the Reflect polyfill before it is first imported.
import "reflect-metadata";

export * from "./api/index.js";
export type * from "./api/types.js";
export * from "./bootstrap/index.js";
export type * from "./capabilities.js";
export { parseConfig } from "./config/load.js";
export type { BoundProvider, ResolvedConfig } from "./config/resolve.js";
export { resolveConfig } from "./config/resolve.js";
export type { ClusterConfig, ClusterConfigInput } from "./config/schema.js";
export {
  ClusterConfigSchema,
  DEFAULT_K3S_VERSION,
  DEFAULT_RANCHER_VERSION,
  RANCHER_K8S_RANGES,
} from "./config/schema.js";
export { createClusterContainer } from "./container.js";
export * from "./datastore/index.js";
export * from "./errors.js";
export * from "./naming.js";
export * from "./network-rules.js";
export { Orchestrator } from "./orchestrator/orchestrator.js";
export * from "./orchestrator/tokens.js";
export * from "./provider.js";
export * from "./registry.js";
export type * from "./resources/common.js";
export * from "./resources/datastore.js";
export * from "./resources/dns-record.js";
export * from "./resources/load-balancer.js";
export * from "./resources/network.js";
export * from "./resources/node.js";
export * from "./retry.js";
export * from "./secret.js";
export * from "./state/index.js";
export type * from "./state/types.js";
export { STATE_VERSION } from "./state/types.js";
export * from "./tokens.js";
export * from "./verify/index.js";
export * from "./wait.js";

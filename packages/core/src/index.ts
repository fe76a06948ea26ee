// The public surface of @k3sinfra/core: the API, the contracts a provider implements, and the helpers it
// uses. Importing it loads no cloud SDK. The machinery (orchestrator, container, tokens of the run) is in
// @k3sinfra/core/internal.
// tsyringe needs the Reflect polyfill before it is first imported.
import "reflect-metadata";

export * from "./api/index.js";
export type * from "./api/types.js";
export * from "./bootstrap/index.js";
export type * from "./capabilities.js";
export type { ClusterConfig, ClusterConfigInput } from "./config/schema.js";
export {
  ClusterConfigSchema,
  DEFAULT_K3S_VERSION,
  DEFAULT_RANCHER_VERSION,
  RANCHER_K8S_RANGES,
} from "./config/schema.js";
export * from "./datastore/index.js";
export * from "./errors.js";
export * from "./naming.js";
export * from "./network-rules.js";
export {
  type CloudProvider,
  defineProvider,
  isLegacyProvider,
  type LegacyProviderDescriptor,
  PROVIDER_CONTRACT_VERSION,
  type ProviderContext,
  type ProviderDescriptor,
  type ProviderServices,
  SUPPORTED_CONTRACT_VERSIONS,
} from "./provider.js";
export * from "./registry.js";
export type * from "./resources/common.js";
export * from "./resources/datastore.js";
export * from "./resources/dns-record.js";
export * from "./resources/load-balancer.js";
export * from "./resources/network.js";
export * from "./resources/node.js";
export * from "./resources/secret-store.js";
export * from "./retry.js";
export * from "./secret.js";
export * from "./state/index.js";
// Reads and resolves a config (and so loads the container's modules): kept out of state/index.js, which stays light.
export { type OpenClusterStateOptions, openClusterState } from "./state/spec.js";
export type * from "./state/types.js";
export { STATE_VERSION } from "./state/types.js";
export * from "./verify/index.js";
export * from "./wait.js";

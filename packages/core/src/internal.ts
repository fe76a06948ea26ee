// @k3sinfra/core/internal: the machinery behind the public API, for k3sinfra's own packages and tests. Not a
// stable surface: it changes without notice between releases.
import "reflect-metadata";

export { type BoundProvider, type ResolvedConfig, resolveConfig } from "./config/resolve.js";
export { type ClusterWiring, createClusterContainer } from "./container.js";
export { exportsTarget, type PackageResolution, resolvePackage } from "./module-resolution.js";
export { Orchestrator } from "./orchestrator/orchestrator.js";
export * from "./orchestrator/tokens.js";
export { ClusterConfigToken, serviceTokens } from "./provider.js";
export { providerContext } from "./provider-context.js";
export {
  type BuiltServices,
  buildServices,
  preflightProvider,
  providerContractChecks,
  serviceIssues,
} from "./provider-services.js";
export { token } from "./tokens.js";

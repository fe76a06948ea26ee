import { type DependencyContainer, Lifecycle, container as rootContainer } from "tsyringe";
import type { ResolvedConfig } from "./config/resolve.js";
import { Orchestrator } from "./orchestrator/orchestrator.js";
import {
  ClusterContainerToken,
  ResolvedConfigToken,
  type RunSettings,
  RunSettingsToken,
  StateStoreToken,
} from "./orchestrator/tokens.js";
import { ClusterConfigToken } from "./provider.js";
import { providerContext } from "./provider-context.js";
import type { StateStore } from "./state/types.js";

export { ClusterContainerToken, ResolvedConfigToken, type RunSettings, RunSettingsToken, StateStoreToken };

/** What the composition root needs for one cluster. */
export interface ClusterWiring {
  readonly resolved: ResolvedConfig;
  readonly store: StateStore;
  readonly run: RunSettings;
}

/**
 * The composition root: one child container per cluster, so two clusters in one process never share a
 * service instance. Providers register their services here, on core's tokens, for the roles they play.
 */
export function createClusterContainer(
  wiring: ClusterWiring,
  parent: DependencyContainer = rootContainer,
): DependencyContainer {
  const child = parent.createChildContainer();
  child.register(ClusterConfigToken, { useValue: wiring.resolved.config });
  child.register(ResolvedConfigToken, { useValue: wiring.resolved });
  child.register(StateStoreToken, { useValue: wiring.store });
  child.register(RunSettingsToken, { useValue: wiring.run });
  child.register(ClusterContainerToken, { useValue: child });
  for (const bound of wiring.resolved.providers) {
    bound.provider.register(child, providerContext(wiring, bound));
  }
  child.register(Orchestrator, { useClass: Orchestrator }, { lifecycle: Lifecycle.ContainerScoped });
  return child;
}

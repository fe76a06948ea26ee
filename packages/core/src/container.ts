import { type DependencyContainer, Lifecycle, container as rootContainer } from "tsyringe";
import type { ResolvedConfig } from "./config/resolve.js";
import { InvalidConfigError } from "./errors.js";
import { Orchestrator } from "./orchestrator/orchestrator.js";
import {
  ClusterContainerToken,
  ResolvedConfigToken,
  type RunSettings,
  RunSettingsToken,
  StateStoreToken,
} from "./orchestrator/tokens.js";
import { ClusterConfigToken, isLegacyProvider, serviceTokens } from "./provider.js";
import { providerContext } from "./provider-context.js";
import { buildServices, PreflightArgsToken, serviceIssues } from "./provider-services.js";
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
 * service instance. Each provider's plain service objects are registered here on core's tokens, for the
 * roles it plays; tsyringe stays inside core.
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
  const preflightArgs = new Map<string, unknown>();
  for (const bound of wiring.resolved.providers) {
    const ctx = providerContext(wiring, bound);
    // Contract 1 registers into the cluster's container itself; contract 2 returns objects registered here.
    const built = buildServices(bound.provider, ctx, child);
    // Refused before any cloud call: validation checked contract 2 already, contract 1 is first seen here.
    const issues = serviceIssues(bound.provider, built.services, bound.roles);
    if (issues.length > 0) throw new InvalidConfigError(issues);
    if (!isLegacyProvider(bound.provider))
      for (const role of bound.roles)
        child.register(serviceTokens[role] as never, { useValue: built.services[role] });
    preflightArgs.set(bound.provider.name, built.preflightArg);
  }
  child.register(PreflightArgsToken, { useValue: preflightArgs });
  child.register(Orchestrator, { useClass: Orchestrator }, { lifecycle: Lifecycle.ContainerScoped });
  return child;
}

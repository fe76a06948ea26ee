import type { ResolvedConfig } from "./config/resolve.js";
import type { RunSettings } from "./orchestrator/tokens.js";
import type { ProviderContext } from "./provider.js";

/** The context a provider's `register` and `preflight` receive. */
export const providerContext = (
  wiring: { readonly resolved: ResolvedConfig; readonly run: Pick<RunSettings, "env"> },
  bound: ResolvedConfig["providers"][number],
  operation?: "up" | "destroy",
): ProviderContext<unknown> => ({
  config: wiring.resolved.config,
  options: bound.options,
  roles: bound.roles,
  baseDir: wiring.resolved.baseDir,
  env: wiring.run.env,
  ...(operation ? { operation } : {}),
});

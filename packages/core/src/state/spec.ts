import type { ClusterSpec, CommandOptions } from "../api/types.js";
import { parseConfig, readConfig } from "../config/load.js";
import { resolveConfig } from "../config/resolve.js";
import { ProviderRegistry } from "../registry.js";
import { type OpenedStateStore, openStateStore } from "./open.js";

/** Options of `openClusterState`: the API's, plus which backend to open. */
export interface OpenClusterStateOptions extends CommandOptions {
  /** `local`, or the config's `state.backend` (default). */
  readonly backend?: string;
  /** See `OpenStateStoreOptions.keyOfStoredState`. */
  readonly keyOfStoredState?: boolean;
}

/**
 * The state store of a cluster spec, as `up` would open it (or the backend named in `backend`): the config is
 * read, validated and bound to its providers first, so a backend offered by one of them is found. No cloud
 * call is made and nothing is read from the store.
 */
export async function openClusterState(
  spec: ClusterSpec,
  options: OpenClusterStateOptions = {},
): Promise<OpenedStateStore> {
  const loaded = await readConfig(spec, options);
  const { config, issues } = parseConfig(loaded.raw);
  const registry = options.registry ?? new ProviderRegistry();
  const resolved = await resolveConfig(config, registry, loaded.baseDir, issues, {
    strict: options.strict === true,
  });
  return openStateStore({
    config,
    providers: resolved.providers.map((p) => p.provider),
    registry,
    baseDir: loaded.baseDir,
    ...(options.env ? { env: options.env } : {}),
    ...(options.onEvent
      ? { onWarning: (message: string) => options.onEvent?.({ type: "warning", message }) }
      : {}),
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.keyOfStoredState ? { keyOfStoredState: true } : {}),
  });
}

import { join, resolve } from "node:path";
import type { ClusterConfig } from "../config/schema.js";
import { InvalidConfigError } from "../errors.js";
import type { CloudProvider } from "../provider.js";
import type { ProviderRegistry } from "../registry.js";
import type { StateBackend } from "./backend.js";
import { BackendStateStore } from "./backend-store.js";
import { decodeState } from "./codec.js";
import { FileStateStore } from "./file-store.js";
import { readIfExists } from "./fs-util.js";
import { defaultKeyFilePath, defaultKeySource, keyFileKeySource, type StateKeySource } from "./keys.js";
import type { StateStore } from "./types.js";

/** What `openStateStore` needs: the config, the providers it loaded, and where paths resolve from. */
export interface OpenStateStoreOptions {
  readonly config: Pick<ClusterConfig, "name" | "state">;
  /** The config's providers (compute, DNS): a backend is looked up among them unless `state.provider` names one. */
  readonly providers: readonly CloudProvider[];
  /** Resolves `state.provider` when the backend's provider is not one of the config's own. */
  readonly registry?: ProviderRegistry;
  readonly baseDir: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Receives the store's notices (a stale lock taken over, a renewal that failed). */
  readonly onWarning?: (message: string) => void;
  /** Open this backend instead of `state.backend` (`local` opens the file at `state.path`; migrate uses it). */
  readonly backend?: string;
  /**
   * For the local file: use the key its secrets were sealed with (the key file even when a passphrase is set),
   * so a migration can read a state sealed with the key file while the passphrase seals the new copy.
   */
  readonly keyOfStoredState?: boolean;
}

/** An opened store and, for a backend other than the local file, the backend under it. */
export interface OpenedStateStore {
  readonly store: StateStore;
  /** `local`, or the backend name from the config. */
  readonly name: string;
  /** Where the state is, for messages. */
  readonly location: string;
  readonly backend?: StateBackend;
}

/** The local state file: `state.path`, default `.k3sinfra/<name>.state.json`, under `baseDir`. */
export function localStatePath(config: Pick<ClusterConfig, "name" | "state">, baseDir: string): string {
  return resolve(baseDir, config.state.path ?? join(".k3sinfra", `${config.name}.state.json`));
}

/**
 * The store `state:` describes. `local` is the file store; any other name is a backend a provider offers
 * (`stateBackends` on its descriptor): one of the config's providers, or the one `state.provider` names.
 * Its block is validated by that backend, with issues under `state.`; nothing is read or written here.
 */
export async function openStateStore(options: OpenStateStoreOptions): Promise<OpenedStateStore> {
  const { config, baseDir } = options;
  const name = options.backend ?? config.state.backend ?? "local";
  const onWarning = options.onWarning;
  if (name === "local") {
    const path = localStatePath(config, baseDir);
    const keySource = options.keyOfStoredState ? await storedKeySource(path, options.env) : undefined;
    const store = new FileStateStore({
      path,
      cluster: config.name,
      ...(keySource ? { keySource } : {}),
      ...(onWarning ? { onWarning } : {}),
    });
    return { store, name, location: path };
  }
  const backend = await resolveBackend(name, options);
  const store = new BackendStateStore({
    backend,
    cluster: config.name,
    ...(options.env ? { env: options.env } : {}),
    ...(onWarning ? { onWarning } : {}),
  });
  return { store, name, location: backend.location, backend };
}

async function resolveBackend(name: string, options: OpenStateStoreOptions): Promise<StateBackend> {
  const { config, baseDir } = options;
  const named = config.state.provider;
  let provider: CloudProvider | undefined;
  if (named !== undefined) {
    if (!options.registry) {
      throw new InvalidConfigError([
        {
          path: "state.provider",
          message: `cannot load provider '${named}' here: no provider registry was given`,
        },
      ]);
    }
    provider = await options.registry.resolve(named, baseDir, "state.provider");
  } else {
    provider = options.providers.find((p) => p.stateBackends?.[name] !== undefined);
  }
  const factory = provider?.stateBackends?.[name];
  if (!factory) {
    const offered = [...new Set(options.providers.flatMap((p) => Object.keys(p.stateBackends ?? {})))];
    throw new InvalidConfigError([
      named !== undefined
        ? {
            path: "state.backend",
            message: `provider '${named}' offers no state backend '${name}'${provider && Object.keys(provider.stateBackends ?? {}).length > 0 ? ` (it offers ${Object.keys(provider.stateBackends ?? {}).join(", ")})` : ""}`,
          }
        : {
            path: "state.backend",
            message: `no provider of this config offers the state backend '${name}' (offered: local${offered.map((o) => `, ${o}`).join("")}); name the provider that does in state.provider`,
          },
    ]);
  }
  const { backend: _name, path: _path, provider: _provider, ...block } = config.state;
  const parsed = factory.parse(block);
  if (!parsed.ok) {
    throw new InvalidConfigError(
      parsed.issues.map((i) => ({ path: i.path ? `state.${i.path}` : "state", message: i.message })),
    );
  }
  return factory.create(parsed.value, {
    cluster: config.name,
    env: options.env ?? process.env,
    baseDir,
  });
}

/** The key source that opens the secrets stored at `path`: the key file if they were sealed with it. */
async function storedKeySource(
  path: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<StateKeySource> {
  const bytes = await readIfExists(path);
  const sealed = bytes && decodeState(bytes, path, `${path}.backup`).secrets;
  return sealed?.key === "keyFile" ? keyFileKeySource(defaultKeyFilePath(env)) : defaultKeySource(env);
}

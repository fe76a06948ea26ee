import type { ClusterConfig, ClusterConfigInput, ProgressEvent } from "../src/index.js";
import {
  InvalidConfigError,
  MemoryStateStore,
  ProviderRegistry,
  parseConfig,
  type StateStore,
} from "../src/index.js";
import { createMemoryProvider, MemoryCloud } from "../src/testing/index.js";

/** A valid config for the in-memory provider; tests override what they exercise. */
export const memoryConfig = (overrides: Partial<ClusterConfigInput> = {}): ClusterConfigInput => ({
  name: "demo",
  provider: "memory",
  region: "memory-1",
  dns: { zone: "example.com" },
  rancher: { hostname: "rancher.example.com" },
  datastore: { deletionProtection: false },
  ...overrides,
});

/** A raw config parsed by core's `parseConfig`, which must find no issue in it (a test's own fixture). */
export function validConfig(raw: unknown): ClusterConfig {
  const { config, issues } = parseConfig(raw);
  if (issues.length > 0) throw new InvalidConfigError(issues);
  return config;
}

/** A fake cloud, a registry that serves it as `memory`, a state store, and the events seen. */
export function world() {
  const cloud = new MemoryCloud();
  const registry = new ProviderRegistry().register(createMemoryProvider(cloud));
  const state = new MemoryStateStore();
  const events: ProgressEvent[] = [];
  const options = {
    registry,
    state,
    poll: { minDelayMs: 1, maxDelayMs: 2 },
    onEvent: (e: ProgressEvent) => events.push(e),
  };
  return { cloud, registry, state, events, options };
}

/** A state store that fails its k-th write: the process "dies" between two state writes. */
export const crashingStore = () => {
  const inner = new MemoryStateStore();
  let writes = 0;
  let crashAt: number | undefined;
  const store: StateStore = {
    read: () => inner.read(),
    write: async (state) => {
      if (++writes === crashAt) throw new Error(`simulated crash at state write #${writes}`);
      return inner.write(state);
    },
    lock: (operation) => inner.lock(operation),
    forceUnlock: (id) => inner.forceUnlock(id),
    lockInfo: () => inner.lockInfo(),
    remove: () => inner.remove(),
  };
  return {
    store,
    crashAfter: (k: number | undefined) => {
      crashAt = k === undefined ? undefined : writes + k;
    },
    writes: () => writes,
  };
};

import type { ClusterConfigInput, ProgressEvent } from "../src/index.js";
import { MemoryStateStore, ProviderRegistry } from "../src/index.js";
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

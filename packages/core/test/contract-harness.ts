import {
  type CollectOptions,
  type ContractServices,
  createMemoryProvider,
  type MemoryCloud,
} from "../src/testing/index.js";

/** The memory provider's services for the suite's kinds (its optional secret store is not under test here). */
export type MemoryServices = {
  readonly [K in Exclude<keyof ContractServices, "secretStore">]-?: NonNullable<ContractServices[K]>;
};

/**
 * The conformance suite's options for the memory provider over `cloud`, with every back door read from the
 * fake cloud itself. `wrap` lets a mutation test break the services the provider builds before the suite
 * sees them. No toggles: they default from the memory provider's capabilities.
 */
export function memoryContract(
  cloud: MemoryCloud,
  wrap: (s: MemoryServices) => ContractServices = (s) => s,
): CollectOptions {
  const base = createMemoryProvider(cloud);
  return {
    provider: {
      ...base,
      services: (ctx: Parameters<typeof base.services>[0]) => wrap(base.services(ctx) as MemoryServices),
    },
    region: "memory-1",
    zones: ["memory-1a", "memory-1b"],
    dns: { zone: "example.com" },
    owned: async (tags) => cloud.withTags(tags).map((o) => o.id),
    status: async (id) => cloud.status(id),
    record: async (r) => cloud.record(r.id),
    targets: async (lb) => cloud.targets(lb.id),
    published: async (node) => cloud.published(node.id),
    drift: {
      stopNode: async (node) => cloud.stopNode(node.id),
      addIngressRule: async (network) => cloud.changeNetworkRules(network.id),
    },
  };
}

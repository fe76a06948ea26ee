import { container } from "tsyringe";
import type { ServiceKind } from "../src/index.js";
import { DatastoreService } from "../src/resources/datastore.js";
import { DnsRecordService } from "../src/resources/dns-record.js";
import { LoadBalancerService } from "../src/resources/load-balancer.js";
import { NetworkService } from "../src/resources/network.js";
import { NodeService } from "../src/resources/node.js";
import {
  type ContractHarness,
  type ContractServices,
  createMemoryProvider,
  type MemoryCloud,
} from "../src/testing/index.js";
import { memoryConfig, validConfig } from "./helpers.js";

const ROLES: readonly ServiceKind[] = ["network", "nodes", "datastore", "loadBalancer", "dns"];

/** The memory provider's services for the suite's kinds (its optional secret store is not under test here). */
export type MemoryServices = {
  readonly [K in Exclude<keyof ContractServices, "secretStore">]-?: NonNullable<ContractServices[K]>;
};

/** The memory provider's services over `cloud`, from either descriptor form (`services(ctx)` or `register`). */
export function memoryServices(cloud: MemoryCloud): MemoryServices {
  const ctx = {
    config: validConfig(memoryConfig()),
    options: {},
    baseDir: process.cwd(),
    roles: ROLES,
    env: {},
  };
  const provider = createMemoryProvider(cloud) as {
    services?: (c: typeof ctx) => ContractServices;
    register?: (c: ReturnType<typeof container.createChildContainer>, x: typeof ctx) => void;
  };
  if (typeof provider.services === "function") return provider.services(ctx) as never;
  const child = container.createChildContainer();
  provider.register?.(child, ctx);
  return {
    network: child.resolve(NetworkService),
    nodes: child.resolve(NodeService),
    datastore: child.resolve(DatastoreService),
    loadBalancer: child.resolve(LoadBalancerService),
    dns: child.resolve(DnsRecordService),
  };
}

/**
 * A conformance harness over the memory provider, with every back door read from the fake cloud itself.
 * `wrap` lets a mutation test break the services before the suite sees them.
 */
export const memoryHarness =
  (cloud: MemoryCloud, wrap: (s: MemoryServices) => ContractServices = (s) => s) =>
  async (): Promise<ContractHarness> => ({
    services: wrap(memoryServices(cloud)),
    owned: async (tags) => cloud.withTags(tags).map((o) => o.id),
    status: async (id) => cloud.status(id),
    record: async (r) => cloud.record(r.id),
    targets: async (lb) => cloud.targets(lb.id),
    published: async (node) => cloud.published(node.id),
    drift: {
      stopNode: async (node) => cloud.stopNode(node.id),
      addIngressRule: async (network) => cloud.changeNetworkRules(network.id),
    },
  });

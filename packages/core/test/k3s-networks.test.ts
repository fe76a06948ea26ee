import { describe, expect, it } from "vitest";
import {
  InvalidConfigError,
  K3sinfraError,
  MemoryStateStore,
  type PartialFailureError,
  ProviderRegistry,
  up,
} from "../src/index.js";
import { cidrsOverlap } from "../src/orchestrator/k3s-networks.js";
import type { NetworkService } from "../src/resources/network.js";
import { createMemoryProvider, MemoryCloud } from "../src/testing/index.js";
import { memoryConfig } from "./helpers.js";

/** The in-memory provider, with its network's subnets placed at `cidr(i)` (as a user's VPC could be). */
const subnetsAt = (cloud: MemoryCloud, cidr: (i: number) => string) => {
  const memory = createMemoryProvider(cloud);
  return {
    ...memory,
    services: (ctx: Parameters<typeof memory.services>[0]) => {
      const built = memory.services(ctx);
      const net = built.network!;
      const network: NetworkService = Object.assign(Object.create(net) as NetworkService, {
        create: async (...args: Parameters<NetworkService["create"]>) => {
          const state = await net.create(...args);
          return { ...state, subnets: state.subnets.map((s, i) => ({ ...s, cidr: cidr(i) })) };
        },
      });
      return { ...built, network };
    },
  };
};

describe("K3s's own networks and the nodes' network", () => {
  it("tells overlapping IPv4 ranges apart", () => {
    expect(cidrsOverlap("10.42.7.0/24", "10.42.0.0/16")).toBe(true);
    expect(cidrsOverlap("10.0.0.0/8", "10.43.0.0/16")).toBe(true);
    expect(cidrsOverlap("10.41.255.0/24", "10.42.0.0/16")).toBe(false);
    expect(cidrsOverlap("172.31.0.0/16", "10.42.0.0/16")).toBe(false);
    expect(cidrsOverlap("fd00::/64", "10.42.0.0/16")).toBe(false);
  });

  it("refuses subnets inside K3s's pod or service network before any server is made, naming the options", async () => {
    const cloud = new MemoryCloud();
    const state = new MemoryStateStore();
    const registry = new ProviderRegistry().register(
      subnetsAt(cloud, (i) => (i === 0 ? "10.42.0.0/24" : "10.43.8.0/24")),
    );
    const error = await up(memoryConfig(), { registry, state, poll: { minDelayMs: 1, maxDelayMs: 2 } }).catch(
      (e: unknown) => e,
    );
    // Each server's step fails on it (the others were recorded), with the config error as its cause.
    expect(K3sinfraError.is(error, "PartialFailure")).toBe(true);
    const failures = (error as PartialFailureError).failures;
    expect(failures.map((f) => f.resource).sort()).toEqual(["node-0", "node-1"]);
    const cause = failures[0]!.error;
    expect(cause).toBeInstanceOf(InvalidConfigError);
    const messages = (cause as InvalidConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    expect(messages).toEqual([
      expect.stringMatching(
        /^options\.memory: the network's subnet \S+ \(10\.42\.0\.0\/24\) overlaps K3s's pod network 10\.42\.0\.0\/16/,
      ),
      expect.stringMatching(
        /^options\.memory: the network's subnet \S+ \(10\.43\.8\.0\/24\) overlaps K3s's service network 10\.43\.0\.0\/16/,
      ),
    ]);
    expect(cloud.inventory().filter((o) => o.kind === "node")).toEqual([]);
    // The network it made is recorded, so destroy (or the next up, once moved) finds it.
    expect((await state.read())?.resources.network).toBeDefined();
  });

  it("goes ahead in a network clear of them", async () => {
    const cloud = new MemoryCloud();
    const registry = new ProviderRegistry().register(subnetsAt(cloud, (i) => `10.44.${i}.0/24`));
    await up(memoryConfig(), {
      registry,
      state: new MemoryStateStore(),
      poll: { minDelayMs: 1, maxDelayMs: 2 },
    });
    expect(cloud.inventory().filter((o) => o.kind === "node")).toHaveLength(2);
  });
});

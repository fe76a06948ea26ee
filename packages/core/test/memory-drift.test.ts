import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import {
  firewallRules,
  LoadBalancerService,
  NetworkService,
  type NetworkSpec,
  NodeService,
  type NodeSpec,
} from "../src/index.js";
import { createMemoryProvider, MemoryCloud, makeContext } from "../src/testing/index.js";
import { memoryConfig, validConfig } from "./helpers.js";

// The memory provider's drift back doors behave as the AWS provider does against the emulator, so core's
// refresh and rolling-replacement tests can rely on the same semantics.
async function world() {
  const cloud = new MemoryCloud();
  const services = createMemoryProvider(cloud).services({
    config: validConfig(memoryConfig()),
    options: {},
    baseDir: process.cwd(),
    roles: ["network", "nodes", "loadBalancer"],
    env: {},
  });
  const c = container.createChildContainer();
  c.register(NetworkService, { useValue: services.network! });
  c.register(NodeService, { useValue: services.nodes! });
  c.register(LoadBalancerService, { useValue: services.loadBalancer! });
  const ctx = (resource: string) => makeContext({ cluster: "drift", resource, region: "memory-1" });
  const netSpec: NetworkSpec = {
    zones: ["memory-1a", "memory-1b"],
    rules: firewallRules({ mode: "l4", clientCidrs: ["0.0.0.0/0"], adminCidrs: [], ssh: false }),
  };
  const network = await c.resolve(NetworkService).create(netSpec, ctx("network"));
  const nodeSpec = (index: number): NodeSpec => ({
    index,
    zone: "memory-1a",
    size: { vcpus: 4, memoryGiB: 16 },
    diskGiB: 30,
    image: "ubuntu-24.04",
    userData: "#cloud-config\n",
    userDataHash: "h",
    network,
  });
  const nodes = [
    await c.resolve(NodeService).create(nodeSpec(0), ctx("node-0")),
    await c.resolve(NodeService).create(nodeSpec(1), ctx("node-1")),
  ];
  return { cloud, c, ctx, netSpec, network, nodeSpec, nodes };
}

describe("memory provider drift", () => {
  it("a stopped node reads stopped and update starts it; a deleted one reads as gone", async () => {
    const { cloud, c, ctx, nodeSpec, nodes } = await world();
    const svc = c.resolve(NodeService);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    cloud.stopNode(a.id);
    const stopped = await svc.read(a, ctx("node-0"));
    expect(stopped).toMatchObject({ status: "stopped", publicIp: undefined });
    const repaired = await svc.update!(stopped!, nodeSpec(0), ctx("node-0"));
    expect(repaired).toEqual(a);
    cloud.deleteObject(b.id);
    expect(await svc.read(b, ctx("node-1"))).toBeUndefined();
    await expect(svc.update!(b, nodeSpec(1), ctx("node-1"))).rejects.toThrow(/must be replaced/);
  });

  it("a rule changed outside shows in rulesDigest; update converges it", async () => {
    const { cloud, c, ctx, netSpec, network } = await world();
    const svc = c.resolve(NetworkService);
    expect(await svc.read(network, ctx("network"))).toEqual(network);
    cloud.changeNetworkRules(network.id);
    const drifted = await svc.read(network, ctx("network"));
    expect(drifted?.rulesDigest).not.toBe(network.rulesDigest);
    expect(drifted?.ruleCount).toBe(network.ruleCount + 1);
    expect(await svc.update!(drifted!, netSpec, ctx("network"))).toEqual(network);
  });

  it("targets: healthy when running and registered, unless deregistered, stopped or failing", async () => {
    const { cloud, c, ctx, network, nodes } = await world();
    const svc = c.resolve(LoadBalancerService);
    const hc = {
      protocol: "tcp" as const,
      port: 80,
      intervalSeconds: 10,
      timeoutSeconds: 6,
      healthyThreshold: 3,
      unhealthyThreshold: 3,
    };
    const lb = await svc.create(
      {
        mode: "l4",
        zones: ["memory-1a"],
        healthCheck: hc,
        idleTimeoutSeconds: 1800,
        crossZone: true,
        network,
      },
      ctx("lb"),
    );
    const [a, b] = nodes.map((n) => n.id) as [string, string];
    await svc.setTargets(lb, nodes, ctx("targets"));
    expect(await svc.getTargets(lb, ctx("targets"))).toMatchObject({ nodeIds: [a, b], healthy: [a, b] });
    cloud.failHealthChecks(a);
    cloud.stopNode(b);
    expect(await svc.getTargets(lb, ctx("targets"))).toMatchObject({ nodeIds: [a, b], healthy: [] });
    cloud.failHealthChecks(a, false);
    cloud.deregisterTarget(lb.id, b);
    expect(await svc.getTargets(lb, ctx("targets"))).toMatchObject({ nodeIds: [a], healthy: [a] });
  });
});

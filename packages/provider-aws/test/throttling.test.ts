import {
  clusterTags,
  DatastoreService,
  DnsRecordService,
  LoadBalancerService,
  NetworkService,
  NodeService,
  Secret,
} from "@k3sinfra/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, networkSpec, startHarness, ZONES } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  // One call in ten is throttled (and one in fifty fails with a 500), on every AWS API.
  h = await startHarness(
    {
      seed: 42,
      faults: [
        { cloud: "aws", kind: "throttle", rate: 0.1 },
        { cloud: "aws", kind: "error500", rate: 0.02 },
      ],
    },
    "thr",
  );
});
afterAll(() => h?.stop());

describe("under throttling", () => {
  it("a whole cluster's resources converge, and are all removed again", async () => {
    const c = h.container();
    const network = await c.resolve(NetworkService).create(networkSpec("l4"), h.ctx("network"));
    const nodes = await Promise.all(
      ZONES.map((zone, index) =>
        c.resolve(NodeService).create(
          {
            index,
            zone,
            size: { vcpus: 4, memoryGiB: 16 },
            diskGiB: 50,
            image: "ubuntu-24.04",
            userData: "#cloud-config\n",
            userDataHash: "h",
            network,
          },
          h.ctx(`node-${index}`),
        ),
      ),
    );
    const db = await c.resolve(DatastoreService).create(
      {
        engine: "mysql",
        version: "8.4",
        size: { vcpus: 2, memoryGiB: 8 },
        storageGiB: 20,
        highAvailability: true,
        deletionProtection: false,
        backupRetentionDays: 7,
        username: "k3sadmin",
        password: new Secret("Zq8mT3vR9kW2pL7xN4cB6hJ1sD5fG0aE"),
        network,
      },
      h.ctx("datastore"),
    );
    const lbSvc = c.resolve(LoadBalancerService);
    const lb = await lbSvc.create(
      {
        mode: "l4",
        zones: [...ZONES],
        healthCheck: {
          protocol: "tcp",
          port: 80,
          intervalSeconds: 10,
          timeoutSeconds: 6,
          healthyThreshold: 3,
          unhealthyThreshold: 3,
        },
        idleTimeoutSeconds: 1800,
        crossZone: true,
        network,
      },
      h.ctx("load-balancer"),
    );
    await lbSvc.setTargets(lb, nodes, h.ctx("load-balancer"));
    const dns = await c.resolve(DnsRecordService).create(
      {
        zone: "example.com",
        hostname: "rancher.thr.example.com",
        target: { type: "ALIAS", dnsName: lb.alias!.dnsName, zoneId: lb.alias!.zoneId },
        ttl: 60,
        proxied: false,
      },
      h.ctx("dns-record"),
    );
    expect((await lbSvc.getTargets(lb, h.ctx("load-balancer")))?.nodeIds).toEqual(
      nodes.map((n) => n.id).sort(),
    );
    expect(db.status).toBe("available");

    await c.resolve(DnsRecordService).delete(dns, h.ctx("dns-record"));
    await lbSvc.delete(lb, h.ctx("load-balancer"));
    await Promise.all(nodes.map((n, i) => c.resolve(NodeService).delete(n, h.ctx(`node-${i}`))));
    await c.resolve(DatastoreService).delete(db, h.ctx("datastore"));
    await c.resolve(NetworkService).delete(network, h.ctx("network"));

    expect(h.emulator.inventory({ tags: clusterTags(h.cluster) })).toEqual([]);
    const faults = h.emulator.requestLog().filter((e) => e.fault);
    expect(faults.filter((e) => e.fault === "throttle").length).toBeGreaterThan(5);
    expect(new Set(faults.map((e) => e.service)).size).toBeGreaterThanOrEqual(3);
  });
});

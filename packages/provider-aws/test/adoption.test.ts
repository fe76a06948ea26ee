import {
  DatastoreService,
  K3sinfraError,
  LoadBalancerService,
  NetworkService,
  type NetworkState,
  NodeService,
  type ResourceContext,
  resourceTags,
  Secret,
} from "@k3sinfra/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, networkSpec, startHarness, ZONES } from "./helpers.js";

let h: Harness;
let network: NetworkState;
beforeAll(async () => {
  // Slow enough that the first wait poll happens while the resource is still being made.
  h = await startHarness({ timeScale: 0.003 }, "adop");
  network = await h.container().resolve(NetworkService).create(networkSpec("l4"), h.ctx("network"));
});
afterAll(() => h?.stop());

/** A context whose run "crashes" (aborts) as soon as the service starts waiting for readiness. */
const crashingCtx = (resource: string): ResourceContext => {
  const controller = new AbortController();
  return h.ctx(resource, {
    signal: controller.signal,
    report: (message) => {
      // IAM's eventual consistency wait comes before anything exists: crash at the first wait after that.
      if (message.startsWith("waiting") && !message.includes("instance profile"))
        controller.abort(new Error("simulated crash"));
    },
  });
};

const expectCrash = async (run: Promise<unknown>) => {
  const error = await run.catch((e: unknown) => e);
  expect(K3sinfraError.is(error, "Aborted")).toBe(true);
};
const owned = (resource: string) =>
  h.emulator
    .inventory({ tags: resourceTags(h.cluster, resource) })
    .map((i) => i.id)
    .sort();

describe("adoption after a crash mid-create", () => {
  it("nodes: the relaunch with the same ClientToken adopts the pending instance", async () => {
    const spec = {
      index: 0,
      zone: ZONES[0],
      size: { vcpus: 2, memoryGiB: 4 },
      diskGiB: 30,
      image: "ubuntu-24.04",
      userData: "#cloud-config\n",
      userDataHash: "h",
      network,
    };
    await expectCrash(h.container().resolve(NodeService).create(spec, crashingCtx("node-0")));
    const left = owned("node-0");
    expect(left).toHaveLength(1);
    const node = await h.container().resolve(NodeService).create(spec, h.ctx("node-0"));
    expect([node.id]).toEqual(left);
    expect(node.status).toBe("running");
    expect(owned("node-0")).toEqual(left);
  });

  it("datastore: the repeat finds the instance being created and waits for it", async () => {
    const spec = {
      engine: "mysql" as const,
      version: "8.4",
      size: { vcpus: 2, memoryGiB: 8 },
      storageGiB: 20,
      highAvailability: false,
      deletionProtection: false,
      backupRetentionDays: 1,
      username: "k3sadmin",
      password: new Secret("Zq8mT3vR9kW2pL7xN4cB6hJ1sD5fG0aE"),
      network,
    };
    await expectCrash(h.container().resolve(DatastoreService).create(spec, crashingCtx("datastore")));
    const left = owned("datastore");
    expect(left.length).toBeGreaterThan(0);
    const db = await h.container().resolve(DatastoreService).create(spec, h.ctx("datastore"));
    expect(db.status).toBe("available");
    expect(owned("datastore")).toEqual(left);
  });

  it("load balancer: the repeat adopts the provisioning LB and finishes its listeners", async () => {
    const spec = {
      mode: "l4" as const,
      zones: [...ZONES],
      healthCheck: {
        protocol: "tcp" as const,
        port: 80,
        intervalSeconds: 10,
        timeoutSeconds: 6,
        healthyThreshold: 3,
        unhealthyThreshold: 3,
      },
      idleTimeoutSeconds: 1800,
      crossZone: true,
      network,
    };
    await expectCrash(h.container().resolve(LoadBalancerService).create(spec, crashingCtx("load-balancer")));
    const left = owned("load-balancer");
    expect(left).toHaveLength(1); // the LB only: the crash came before its target groups
    const lb = await h.container().resolve(LoadBalancerService).create(spec, h.ctx("load-balancer"));
    expect(lb.status).toBe("active");
    expect(owned("load-balancer")).toContain(lb.id);
    // The LB, its two target groups and two listeners, once each.
    expect(owned("load-balancer")).toHaveLength(5);
  });
});

import { describe, expect, it } from "vitest";
import type { ProgressEvent } from "../src/index.js";
import {
  destroy,
  K3sinfraError,
  MemoryStateStore,
  ProviderRegistry,
  plan,
  status,
  up,
} from "../src/index.js";
import { remainingPaths, runGraph, type Task } from "../src/orchestrator/scheduler.js";
import { ApiSlots } from "../src/orchestrator/slots.js";
import { MemoryCloud } from "../src/testing/index.js";
import { memoryConfig } from "./helpers.js";
import { newLog, pollingProvider } from "./polling-provider.js";

/** A cloud whose creates and deletes take as many polls as `delays` says, and the log of every request. */
function slowWorld(delays: MemoryCloud["delays"] = {}) {
  const cloud = new MemoryCloud();
  Object.assign(cloud.delays, delays);
  const log = newLog();
  const events: ProgressEvent[] = [];
  const options = {
    registry: new ProviderRegistry().register(pollingProvider(cloud, log)),
    state: new MemoryStateStore(),
    poll: { minDelayMs: 1, maxDelayMs: 1 },
    onEvent: (e: ProgressEvent) => events.push(e),
  };
  const at = (entry: string) => {
    const i = log.entries.indexOf(entry);
    if (i < 0) throw new Error(`no request '${entry}' in ${log.entries.join(", ")}`);
    return i;
  };
  const last = (entry: string) => log.entries.lastIndexOf(entry);
  return { cloud, log, events, options, at, last };
}

const nodes = (n: number) => Array.from({ length: n }, (_, i) => `node-${i}`);

describe("critical-path scheduling (up)", () => {
  it("with one API slot, the datastore (the longest path) goes first, then the load balancer, then the nodes", async () => {
    const w = slowWorld({ datastore: { create: 6 }, loadBalancer: { create: 3 }, node: { create: 1 } });
    await up(memoryConfig({ nodes: { count: 7 } }), { ...w.options, parallelism: 1 });
    const creates = w.log.entries.filter((e) => e.endsWith(" create"));
    expect(creates.slice(0, 3)).toEqual(["network create", "datastore create", "load-balancer create"]);
    for (const n of nodes(7)) expect(w.at(`${n} create`)).toBeGreaterThan(w.at("load-balancer create"));
    expect(w.log.peak).toBe(1);
  });

  it("the load balancer does not wait for the nodes: it is created before any of 7 servers is ready", async () => {
    const w = slowWorld({ datastore: { create: 4 }, loadBalancer: { create: 2 }, node: { create: 3 } });
    await up(memoryConfig({ nodes: { count: 7 } }), w.options);
    for (const n of nodes(7)) expect(w.at("load-balancer create")).toBeLessThan(w.at(`${n} create done`));
    // The DNS record follows the load balancer, not the nodes.
    expect(w.at("dns-record create")).toBeGreaterThan(w.at("load-balancer create done"));
    expect(w.at("dns-record create")).toBeLessThan(w.at("datastore create done"));
  });

  it("a resource that is only polling holds no slot: with one slot, two polling resources interleave their calls", async () => {
    const w = slowWorld({ datastore: { create: 5 }, loadBalancer: { create: 5 } });
    await up(memoryConfig({ nodes: { count: 2 } }), { ...w.options, parallelism: 1 });
    // While the datastore polls, the load balancer is created and polls too, one request at a time.
    expect(w.at("load-balancer create")).toBeLessThan(w.last("datastore poll"));
    expect(w.at("load-balancer poll")).toBeLessThan(w.last("datastore poll"));
    expect(w.at("datastore poll")).toBeLessThan(w.last("load-balancer poll"));
    expect(w.log.peak).toBe(1);
  });

  it("parallelism bounds the API calls in flight, not the resources being worked on", async () => {
    const w = slowWorld({ datastore: { create: 3 }, node: { create: 3 }, loadBalancer: { create: 3 } });
    await up(memoryConfig({ nodes: { count: 5 } }), { ...w.options, parallelism: 2 });
    expect(w.log.peak).toBe(2);
    // More than two resources were in progress at once: the last node started before the first was ready.
    expect(w.at("node-4 create")).toBeLessThan(w.at("node-0 create done"));
  });
});

describe("reads", () => {
  it("refresh reads every resource at once, at most `parallelism` requests in flight", async () => {
    const w = slowWorld();
    const config = memoryConfig({ nodes: { count: 5 } });
    await up(config, w.options);
    w.log.peak = 0;
    expect((await plan(config, { ...w.options, parallelism: 3 })).empty).toBe(true);
    expect(w.log.peak).toBe(3);
    w.log.peak = 0;
    // status reads the same way, with the default of 4.
    const report = await status(config, w.options);
    expect(report.resources.every((r) => r.status === "ok")).toBe(true);
    expect(w.log.peak).toBe(4);
  });
});

describe("destroy on the reversed graph", () => {
  it("starts deleting the datastore at once, before the DNS record is gone, and the network last, after the sweeps", async () => {
    const w = slowWorld();
    const config = memoryConfig({ nodes: { count: 3 } });
    await up(config, w.options);
    Object.assign(w.cloud.delays, {
      dnsRecord: { delete: 4 },
      datastore: { delete: 3 },
      node: { delete: 2 },
    });
    w.log.dnsDeleteIgnoresHint = true;
    w.log.entries.length = 0;
    const result = await destroy(config, w.options);
    expect(w.at("datastore delete")).toBeLessThan(w.at("dns-record delete done"));
    // What depends on a resource is gone (and its kind swept) before it is deleted.
    expect(w.at("load-balancer delete")).toBeGreaterThan(w.at("dns-record delete done"));
    for (const kind of ["datastore", "nodes", "loadBalancer"])
      expect(w.at("network delete")).toBeGreaterThan(w.at(`sweep-${kind} findByTags`));
    expect(w.at("network delete")).toBeGreaterThan(w.at("datastore delete done"));
    expect(w.at("sweep-network findByTags")).toBeGreaterThan(w.at("network delete done"));
    expect(result.deleted).toHaveLength(9);
    expect(w.cloud.inventory()).toEqual([]);
  });

  it("a DNS deletion does not wait for the change to be in sync; the create does", async () => {
    const w = slowWorld({ dnsRecord: { create: 2, delete: 2 } });
    const config = memoryConfig();
    await up(config, w.options);
    expect(w.log.entries.filter((e) => e === "dns-record poll")).toHaveLength(3);
    w.log.entries.length = 0;
    await destroy(config, w.options);
    expect(w.log.entries).toContain("dns-record delete");
    expect(w.log.entries).not.toContain("dns-record poll");
  });

  it("a failed deletion keeps what it depends on, each reported skipped with the reason", async () => {
    const w = slowWorld();
    const config = memoryConfig({ datastore: { deletionProtection: true } });
    await up(config, w.options);
    const error = await destroy(config, w.options).catch((e: unknown) => e);
    expect(K3sinfraError.is(error, "PartialFailure")).toBe(true);
    expect(
      w.cloud
        .inventory()
        .map((o) => o.kind)
        .sort(),
    ).toEqual(["datastore", "network"]);
    const skipped = w.events.filter((e) => e.type === "resource" && e.phase === "skipped");
    expect(skipped).toEqual([
      expect.objectContaining({
        resource: "network",
        message: "kept until the failures are fixed (it needs the datastore deleted first)",
      }),
    ]);
  });
});

describe("the scheduler's parts", () => {
  const task = (id: string, dependsOn: string[], weight: number, order: string[]): Task => ({
    id,
    dependsOn,
    weight,
    run: async () => {
      order.push(id);
    },
  });

  it("weighs each task by its longest remaining path and starts ready work in that order", async () => {
    const order: string[] = [];
    const tasks = [
      task("a", [], 1, order),
      task("b", [], 2, order),
      task("long", [], 10, order),
      task("after-a", ["a"], 100, order),
    ];
    expect(remainingPaths(tasks)).toEqual(
      new Map([
        ["a", 101],
        ["b", 2],
        ["long", 10],
        ["after-a", 100],
      ]),
    );
    await runGraph(tasks, { signal: new AbortController().signal });
    expect(order.slice(0, 3)).toEqual(["a", "long", "b"]);
  });

  it("serves queued calls by priority, ties in arrival order, nested calls at once, and gives up on abort", async () => {
    const slots = new ApiSlots(1);
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const first = slots.run(async () => {
      order.push("first");
      // A provider nesting a request inside another must not deadlock on its own slot.
      await slots.run(async () => order.push("nested"));
      await gate;
    });
    const aborted = new AbortController();
    const calls = [
      slots.run(async () => order.push("low"), 1),
      slots.run(async () => order.push("high-1"), 5),
      slots.run(async () => order.push("high-2"), 5),
      slots
        .run(async () => order.push("never"), 9, aborted.signal)
        .catch((e: unknown) => {
          order.push(K3sinfraError.is(e, "Aborted") ? "aborted" : "other");
        }),
    ];
    aborted.abort();
    release();
    await Promise.all([first, ...calls]);
    expect(order).toEqual(["first", "nested", "aborted", "high-1", "high-2", "low"]);
    expect(slots.busy).toBe(0);
  });
});

import {
  DatastoreService,
  DnsRecordService,
  destroy,
  LoadBalancerService,
  NetworkService,
  NodeService,
  type ResourceService,
  up,
} from "@k3sinfra/core";
import { serviceTokens } from "@k3sinfra/core/internal";
import { makeContext } from "@k3sinfra/core/testing";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import type { ProxiedCall } from "@k3sinfra/emulator/crash-proxy";
import { container, type InjectionToken } from "tsyringe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aws } from "../src/index.js";
import { awsCrashProxy, operationOf } from "./crash-proxy.js";
import { ALL_ROLES, REGION, testConfig } from "./helpers.js";
import { leftovers, libraryConfig, libraryOptions } from "./library.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    timeScale: 0.0005,
    seed: 12,
    fixtures: { aws: { hostedZones: ["example.com"] } },
    log: () => undefined,
  });
});
afterAll(() => emulator?.stop());

/** Calls that change something: anything but Describe*, List* and Get*. */
const mutating = (calls: readonly ProxiedCall[]) =>
  calls
    .map((c) => ({ operation: operationOf(c), body: c.body }))
    .filter((c) => !/^(Describe|List|Get)/.test(c.operation) && !c.operation.startsWith("GET "));
/** A request body's values, form-decoded where it is a form (ARNs are percent-encoded there). */
const decoded = (body: string) =>
  body.includes("Action=") ? [...new URLSearchParams(body).values()].join(" ") : body;

describe("another cluster's objects", () => {
  it("are never touched by this cluster's destroy, sweep or deletes", async () => {
    const one = libraryOptions(emulator.endpoints.aws!, emulator);
    const two = libraryOptions(emulator.endpoints.aws!, emulator);
    await Promise.all([up(libraryConfig("own1"), one.options), up(libraryConfig("own2"), two.options)]);
    const theirs = leftovers(emulator, "own2");
    const theirKeys = theirs.map((i) => `${i.type} ${i.id}`).sort();
    expect(new Set(theirs.map((i) => i.type)).size).toBeGreaterThanOrEqual(8);

    // Deleting another cluster's recorded objects with this cluster's context is refused before any change.
    const proxy = awsCrashProxy(emulator.endpoints.aws!);
    const env = { ...one.options.env, AWS_ENDPOINT_URL: await proxy.start() };
    const child = container.createChildContainer();
    const built = aws.services({
      config: testConfig("own1"),
      options: {},
      roles: ALL_ROLES,
      env,
      baseDir: process.cwd(),
    });
    for (const role of ALL_ROLES) child.register(serviceTokens[role] as never, { useValue: built[role] });
    const recorded = (await two.state.read())!.resources;
    const services: [string, InjectionToken<ResourceService<unknown, { id: string }>>][] = [
      ["network", NetworkService as never],
      ["node-0", NodeService as never],
      ["datastore", DatastoreService as never],
      ["load-balancer", LoadBalancerService as never],
      ["dns-record", DnsRecordService as never],
    ];
    for (const [resource, token] of services) {
      const state = recorded[resource]?.state as { id: string };
      expect(state, resource).toBeDefined();
      const ctx = makeContext({
        cluster: "own1",
        resource,
        region: REGION,
        poll: { minDelayMs: 5, maxDelayMs: 50 },
      });
      await expect(child.resolve(token).delete(state, ctx), resource).rejects.toThrow(/cluster 'own2'/);
    }
    // Nor are its load balancer's targets deregistered (what deleting `lb-targets` does).
    const lbState = recorded["load-balancer"]?.state as never;
    await expect(
      child
        .resolve(LoadBalancerService)
        .setTargets(lbState, [], makeContext({ cluster: "own1", resource: "lb-targets", region: REGION })),
    ).rejects.toThrow(/cluster 'own2'/);
    expect(mutating(proxy.requests)).toEqual([]);

    // Destroying this cluster (state, then sweeps of the whole account) leaves the other exactly as it was.
    const seenBefore = proxy.requests.length;
    await destroy(libraryConfig("own1"), { ...one.options, env });
    expect(leftovers(emulator, "own1")).toEqual([]);
    expect(
      leftovers(emulator, "own2")
        .map((i) => `${i.type} ${i.id}`)
        .sort(),
    ).toEqual(theirKeys);
    const changes = mutating(proxy.requests.slice(seenBefore));
    expect(changes.length).toBeGreaterThan(5);
    const names = [...theirs.map((i) => i.id), ...theirs.map((i) => i.name ?? "").filter(Boolean), "own2"];
    for (const call of changes)
      for (const mark of names)
        expect(decoded(call.body), `${call.operation} names ${mark}`).not.toContain(mark);
    await proxy.stop();

    await destroy(libraryConfig("own2"), two.options);
    expect(emulator.inventory()).toEqual([]);
  });
});

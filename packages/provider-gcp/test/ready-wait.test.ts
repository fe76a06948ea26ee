/**
 * `up` waits until every server is healthy behind the load balancer, on the emulator, whose servers boot through
 * the shared boot timeline (a backend answers only once its K3s is ready). With one node's bootstrap failing (the
 * emulator's `failBootstrap`, by labels), `up` gives up naming the node, the stage and its reason as its serial
 * console shows them (the provider's `bootLog`: `instances.getSerialPortOutput`), and the command that prints the
 * log; once the fault clears, the node's unit runs again and the next `up` converges. On a virtual clock: emulated
 * time passes only while every client waits, so nothing races the wall clock.
 */
import {
  K3sinfraError,
  MemoryStateStore,
  type NodeState,
  type ProgressEvent,
  ProviderRegistry,
  TAG_CLUSTER,
  TAG_RESOURCE,
  up,
} from "@k3sinfra/core";
import { makeContext } from "@k3sinfra/core/testing";
import { type Emulator, VirtualClock } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gcp } from "../src/index.js";
import { REGION, startGcp, uncheckedConfig } from "./helpers.js";

let emulator: Emulator;
let env: Record<string, string>;
const clock = new VirtualClock();
beforeAll(async () => {
  ({ emulator, env } = await startGcp(29, clock));
});
afterAll(() => emulator?.stop());

const config = uncheckedConfig;

const options = (state: MemoryStateStore) => {
  const events: ProgressEvent[] = [];
  return {
    events,
    options: {
      registry: new ProviderRegistry().register(gcp),
      state,
      env,
      poll: { minDelayMs: 2_000, maxDelayMs: 30_000, clock },
      onEvent: (e: ProgressEvent) => events.push(e),
    },
  };
};

/** The provider's node service, driven directly (as core's `whereStuck` calls it). */
const nodeService = (name: string) =>
  gcp.services({ config: { name } as never, options: {}, roles: ["nodes"], env, baseDir: "." }).nodes!;
const ctx = (name: string) =>
  makeContext({
    cluster: name,
    resource: "node-0",
    region: REGION,
    poll: { minDelayMs: 5, maxDelayMs: 50, clock },
  });

const nodeOf = async (state: MemoryStateStore, node: string) =>
  (await state.read())!.resources[node]!.state as unknown as NodeState;

describe("up on Google Cloud waits for the servers to serve", () => {
  it("fails naming the node whose bootstrap fails, its stage from the serial console and the log command; converges once it clears", async () => {
    const name = "gcprw";
    const reason = "cannot connect to the datastore at 10.20.0.3:3306 (timed out)";
    // node-1's bootstrap fails at the datastore from its launch on (every instance whose labels carry these tags).
    const node1 = { tags: { [TAG_CLUSTER]: name, [TAG_RESOURCE]: "node-1" } };
    emulator.failBootstrap(node1, "datastore", reason);
    const state = new MemoryStateStore();
    const first = options(state);

    const failure = await up(config(name), { ...first.options, timeouts: { nodes: 15 * 60_000 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(K3sinfraError);
    const message = (failure as Error).message;
    const id = (await nodeOf(state, "node-1")).id;
    expect(id).toMatch(/^projects\/k3sinfra-test\/zones\/us-central1-[ab]\/instances\//);
    expect(message).toMatch(/^1 of 2 servers did not become healthy behind the load balancer within 15 min/);
    expect(message).toContain(`  - node-1 (${id}): stage datastore failed: ${reason}`);
    const [, project, , zone, , instance] = id.split("/");
    expect(message).toContain(
      `its log: gcloud compute instances get-serial-port-output ${instance} --zone ${zone} --project ${project}`,
    );
    expect(message).not.toContain("node-0");
    const failed = first.events.filter((e) => e.type === "resource" && e.phase === "failed");
    expect(failed.map((e) => (e.type === "resource" ? e.resource : ""))).toEqual(["ready:node-1"]);

    // The cause is fixed: the unit's next run passes the stage, and `up` (which only waits now) converges.
    emulator.clearBootstrapFault(node1);
    await up(config(name), options(state).options);
    expect((await nodeOf(state, "node-1")).id).toBe(id);
    const log = await nodeService(name).bootLog!(await nodeOf(state, "node-1"), ctx(name));
    expect(log).toContain(`k3sinfra-bootstrap: stage=datastore failed: ${reason}`);
    expect(log).toMatch(/k3sinfra-bootstrap: stage=k3s-ready ok\n/);
  });

  it("bootLog returns serial port 1 with the stage lines; undefined while the instance does not run", async () => {
    const name = "gcpbl";
    const state = new MemoryStateStore();
    await up(config(name), options(state).options);
    const nodes = nodeService(name);
    const node0 = await nodeOf(state, "node-0");
    const log = await nodes.bootLog!(node0, ctx(name));
    expect(log).toMatch(/^\[ {4}0\.000000\] Linux version/);
    expect(log).toContain("k3sinfra-bootstrap: stage=secrets start\n");
    expect(log).toContain("k3sinfra-bootstrap: stage=k3s-ready ok\n");
    expect(log).not.toContain("failed");

    // Stopped (by a user): the API has no serial output for it, and bootLog says there is none.
    const stop = await fetch(`${emulator.url}/compute/v1/${node0.id}/stop`, {
      method: "POST",
      headers: { authorization: "Bearer console" },
    });
    expect(stop.status).toBe(200);
    expect(await nodes.bootLog!(node0, ctx(name))).toBeUndefined();
  });
});

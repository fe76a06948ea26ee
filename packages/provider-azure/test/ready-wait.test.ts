/**
 * `up` waits until every server is healthy behind the load balancer, on the emulator, whose VMs boot through the
 * shared boot timeline (a backend answers its probe only once its K3s is ready). With node-1's bootstrap failing
 * at the datastore (the emulator's `failBootstrap`), `up` gives up naming the node, the stage and its reason as
 * its boot diagnostics' serial log shows them, and the command that prints the log; once the fault clears, the
 * node's unit runs again and the next `up` converges. Time is the virtual clock's: the 20-minute wait costs no
 * wall time and nothing races the wall clock.
 */
import {
  type ClusterConfigInput,
  K3sinfraError,
  MemoryStateStore,
  type ProgressEvent,
  ProviderRegistry,
  TAG_CLUSTER,
  TAG_RESOURCE,
  up,
} from "@k3sinfra/core";
import { type Emulator, VirtualClock } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { azure } from "../src/index.js";
import { azureEnv, configInput, startAzureEmulator } from "./helpers.js";

let emulator: Emulator;
let env: Record<string, string>;
const clock = new VirtualClock();
beforeAll(async () => {
  emulator = await startAzureEmulator({ timeScale: 1, virtualClock: clock, seed: 41 });
  env = azureEnv(emulator);
});
afterAll(() => emulator?.stop());

const config = (name: string): ClusterConfigInput =>
  configInput(name, {
    // The emulated flexible server has no database behind it here: skip the readiness check.
    datastore: { version: "8.0", deletionProtection: false, check: "off" },
  });

const options = (state: MemoryStateStore, events: ProgressEvent[]) => ({
  registry: new ProviderRegistry().register(azure),
  state,
  env,
  poll: { minDelayMs: 2_000, maxDelayMs: 30_000, clock },
  onEvent: (e: ProgressEvent) => events.push(e),
});

const vmOf = (name: string, node: string) =>
  emulator
    .inventory({ cloud: "azure", tags: { [TAG_CLUSTER]: name, [TAG_RESOURCE]: node } })
    .find((i) => i.type === "Microsoft.Compute/virtualMachines");

describe("up waits for the Azure servers to serve", () => {
  it("fails naming the node whose bootstrap fails, its stage and log command; converges once it clears", async () => {
    const name = "rwfail";
    const reason = "cannot connect to the datastore at k3s-rwfail-db:3306 (timed out)";
    // node-1's bootstrap fails at the datastore from its creation on (every VM carrying its tags).
    const node1 = { tags: { [TAG_CLUSTER]: name, [TAG_RESOURCE]: "node-1" } };
    emulator.failBootstrap(node1, "datastore", reason);
    const state = new MemoryStateStore();
    const events: ProgressEvent[] = [];

    const failure = await up(config(name), {
      ...options(state, events),
      timeouts: { nodes: 20 * 60_000 },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(K3sinfraError);
    const message = (failure as Error).message;
    const id = vmOf(name, "node-1")?.id;
    expect(id).toMatch(/\/virtualMachines\//);
    expect(message).toMatch(/^1 of 2 servers did not become healthy behind the load balancer within 20 min/);
    expect(message).toContain(`  - node-1 (${id}): stage datastore failed: ${reason}`);
    expect(message).toContain(`its log: az vm boot-diagnostics get-boot-log --ids ${id}`);
    expect(message).not.toContain("node-0");
    // The SAS URIs the provider read the log with went nowhere.
    expect(`${message}\n${JSON.stringify(events)}`).not.toMatch(/sig=|bootdiagnostics\//);
    const failed = events.filter((e) => e.type === "resource" && e.phase === "failed");
    expect(failed.map((e) => (e.type === "resource" ? e.resource : ""))).toEqual(["ready:node-1"]);

    // The cause is fixed: the unit's next run passes the stage, and `up` (which only waits now) converges.
    emulator.clearBootstrapFault(node1);
    await up(config(name), options(state, events));
    expect(vmOf(name, "node-1")?.id).toBe(id);
    const done = events.filter((e) => e.type === "resource" && e.resource === "ready:node-1").at(-1);
    expect(done?.type === "resource" ? done.phase : undefined).toBe("done");
  });
});

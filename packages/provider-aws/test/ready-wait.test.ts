/**
 * `up` waits until every server is healthy behind the load balancer, on the emulator, whose servers boot through
 * a timeline (boot-timeline.ts: a target answers only once its K3s is ready). With one node's bootstrap failing
 * (the emulator's `failBootstrap`), `up` gives up naming the node, the stage and its reason as the console shows
 * them, and the command that prints the log; once the fault clears, the node's unit runs again and the next `up`
 * converges. On a virtual clock: emulated time passes only while every client waits, so each wait takes real
 * durations at no wall time and nothing races the wall clock on a loaded machine.
 */
import { EC2 } from "@aws-sdk/client-ec2";
import { K3sinfraError, TAG_CLUSTER, TAG_RESOURCE, up } from "@k3sinfra/core";
import { type Emulator, startEmulator, VirtualClock } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { libraryConfig, libraryOptions } from "./library.js";

let emulator: Emulator;
const clock = new VirtualClock();

beforeAll(async () => {
  emulator = await startEmulator({
    timeScale: 1,
    virtualClock: clock,
    seed: 23,
    fixtures: { aws: { hostedZones: ["example.com"] } },
    log: () => undefined,
  });
});
afterAll(async () => {
  await emulator?.stop();
});

/** The library's options against the emulator, polling as a real cloud is polled, on the virtual clock. */
const onClock = (lib: ReturnType<typeof libraryOptions>) => ({
  ...lib,
  options: { ...lib.options, poll: { minDelayMs: 2_000, maxDelayMs: 30_000, clock } },
});

/** Every target registration of the cluster (one per target group × server), with the health the LB reports. */
const targets = (name: string) =>
  emulator.inventory({ tags: { [TAG_CLUSTER]: name } }).filter((i) => i.type === "target");
const instances = (name: string) =>
  emulator
    .inventory({ tags: { [TAG_CLUSTER]: name } })
    .filter((i) => i.type === "instance" && i.state === "running");

/** The serial console of an instance, as `aws ec2 get-console-output --latest` prints it. */
const consoleOf = async (id: string) => {
  const ec2 = new EC2({
    region: "us-east-1",
    endpoint: emulator.endpoints.aws!,
    credentials: emulator.credentials.aws,
  });
  const out = await ec2.getConsoleOutput({ InstanceId: id, Latest: true });
  return Buffer.from(out.Output ?? "", "base64").toString("utf8");
};

describe("up waits for the servers to serve", () => {
  it("returns once every target is healthy, each server's readiness reported", async () => {
    const name = "rwok";
    const lib = onClock(libraryOptions(emulator.endpoints.aws!, emulator));
    // K3s takes its time on every server: held (by the emulator's back door) until `up` is seen waiting, so the
    // wait is observed whatever the speed of the machine; released at its first progress report.
    const cluster = { tags: { [TAG_CLUSTER]: name } };
    emulator.failBootstrap(cluster, "k3s-ready", "K3s is not answering /ping yet");
    let atStart: string[] | undefined;
    let released = false;
    await up(libraryConfig(name), {
      ...lib.options,
      onEvent: (e) => {
        lib.options.onEvent(e);
        if (e.type !== "resource" || !e.resource.startsWith("ready:")) return;
        if (e.phase === "start") atStart ??= targets(name).map((t) => t.state);
        if (e.phase === "progress" && !released) {
          released = true;
          emulator.clearBootstrapFault(cluster);
        }
      },
    });
    // When it began waiting, no server was healthy; at its return (no request since), every registration of
    // every server is.
    expect(atStart?.length).toBeGreaterThanOrEqual(4);
    expect(atStart).not.toContain("healthy");
    const regs = targets(name);
    expect(regs.length).toBe(atStart?.length);
    expect(regs.filter((t) => t.state !== "healthy")).toEqual([]);
    const servers = instances(name);
    expect(new Set(regs.map((t) => t.id))).toEqual(new Set(servers.map((i) => i.id)));
    // Each server was reported waiting, then done.
    for (const node of ["node-0", "node-1"]) {
      const phases = lib.events
        .filter((e) => e.type === "resource" && e.resource === `ready:${node}`)
        .map((e) => (e.type === "resource" ? e.phase : ""));
      expect(phases[0]).toBe("start");
      expect(phases).toContain("progress");
      expect(phases.at(-1)).toBe("done");
      expect(phases).not.toContain("failed");
    }
    // Healthy means K3s is ready: each console shows the bootstrap past `k3s-ready`.
    for (const i of servers)
      expect(await consoleOf(i.id)).toContain("k3sinfra-bootstrap: stage=k3s-ready ok");
  });

  it("fails naming the node whose bootstrap fails, its stage and log command; converges once it clears", async () => {
    const name = "rwfail";
    const config = libraryConfig(name);
    const lib = onClock(libraryOptions(emulator.endpoints.aws!, emulator));
    const reason = "cannot connect to the datastore at k3s-rwfail-db:3306 (timed out)";
    // node-1's bootstrap fails at the datastore from its launch on (every instance carrying its tags).
    const node1 = { tags: { [TAG_CLUSTER]: name, [TAG_RESOURCE]: "node-1" } };
    emulator.failBootstrap(node1, "datastore", reason);

    const failure = await up(config, { ...lib.options, timeouts: { nodes: 15 * 60_000 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(K3sinfraError);
    const message = (failure as Error).message;
    const id = instances(name).find((i) => i.tags[TAG_RESOURCE] === "node-1")?.id;
    expect(id).toMatch(/^i-/);
    expect(message).toMatch(/^1 of 2 servers did not become healthy behind the load balancer/);
    expect(message).toContain(`  - node-1 (${id}): stage datastore failed: ${reason}`);
    expect(message).toContain(
      `its log: aws ec2 get-console-output --region us-east-1 --instance-id ${id} --latest --output text`,
    );
    expect(message).not.toContain("node-0");
    const failed = lib.events.filter((e) => e.type === "resource" && e.phase === "failed");
    expect(failed.map((e) => (e.type === "resource" ? e.resource : ""))).toEqual(["ready:node-1"]);
    // node-1's targets fail their checks; node-0's serve.
    const states = (node: string) =>
      targets(name)
        .filter((t) => t.id === instances(name).find((i) => i.tags[TAG_RESOURCE] === node)?.id)
        .map((t) => t.state);
    expect(new Set(states("node-1"))).toEqual(new Set(["unhealthy"]));
    expect(new Set(states("node-0"))).toEqual(new Set(["healthy"]));

    // The cause is fixed: the unit's next run passes the stage, and `up` (which only waits now) converges.
    emulator.clearBootstrapFault(node1);
    const again = onClock(libraryOptions(emulator.endpoints.aws!, emulator, lib.state));
    await up(config, again.options);
    expect(targets(name).filter((t) => t.state !== "healthy")).toEqual([]);
    expect(instances(name).map((i) => i.id)).toContain(id);
    const log = await consoleOf(id!);
    expect(log).toContain(`k3sinfra-bootstrap: stage=datastore failed: ${reason}`);
    expect(log).toMatch(/k3sinfra-bootstrap: stage=done ok\n/);
  });
});

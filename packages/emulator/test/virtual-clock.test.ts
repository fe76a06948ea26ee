import { DescribeInstancesCommand, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { afterEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../src/index.js";
import { type Clients, start, UBUNTU_SSM } from "./helpers.js";

describe("VirtualClock", () => {
  it("wakes sleepers in deadline order, each at its own instant, once nothing else happens", async () => {
    const clock = new VirtualClock({ start: 1_000 });
    const woke: [string, number][] = [];
    const nap = (name: string, ms: number) => clock.sleep(ms).then(() => woke.push([name, clock.now()]));
    await Promise.all([
      nap("long", 600_000),
      nap("short", 5_000),
      nap("mid", 60_000),
      nap("also-short", 5_000),
    ]);
    expect(woke).toEqual([
      ["short", 6_000],
      ["also-short", 6_000],
      ["mid", 61_000],
      ["long", 601_000],
    ]);
    expect(clock.pending).toBe(0);
  });

  it("stands still while held, however long the holder takes in real time", async () => {
    const clock = new VirtualClock({ start: 0 });
    const release = clock.hold();
    let woke = false;
    const sleeping = clock.sleep(1_000).then(() => {
      woke = true;
    });
    // Many event-loop turns and a real timer pass; the held clock does not move.
    await new Promise((r) => setTimeout(r, 30));
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(woke).toBe(false);
    expect(clock.now()).toBe(0);
    release();
    await sleeping;
    expect(clock.now()).toBe(1_000);
  });

  it("advance moves time at once and wakes what is due", async () => {
    const clock = new VirtualClock({ start: 0 });
    const release = clock.hold();
    const order: string[] = [];
    const a = clock.sleep(10).then(() => order.push("a"));
    const b = clock.sleep(20).then(() => order.push("b"));
    clock.advance(15);
    await a;
    expect(order).toEqual(["a"]);
    expect(clock.now()).toBe(15);
    clock.advance(100);
    await b;
    expect(order).toEqual(["a", "b"]);
    expect(clock.now()).toBe(115);
    release();
  });
});

describe("the emulator on a virtual clock", () => {
  let c: Clients | undefined;
  afterEach(async () => {
    await c?.emu.stop();
    c = undefined;
  });

  it("keeps an instance pending until the client waits, then it runs: no race against the wall clock", async () => {
    const clock = new VirtualClock();
    c = await start({ timeScale: 1, virtualClock: clock });
    const run = await c.ec2.send(
      new RunInstancesCommand({ ImageId: UBUNTU_SSM, InstanceType: "t3.micro", MinCount: 1, MaxCount: 1 }),
    );
    const id = run.Instances![0]!.InstanceId!;
    const state = async () =>
      (await c!.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!
        .Instances![0]!.State!.Name;
    // Real time passes (a loaded machine), emulated time does not: still pending.
    await new Promise((r) => setTimeout(r, 50));
    expect(await state()).toBe("pending");
    const before = clock.now();
    await clock.sleep(5 * 60_000);
    expect(clock.now() - before).toBe(5 * 60_000);
    expect(await state()).toBe("running");
    // The request log is by the same clock.
    const log = c.emu.requestLog();
    expect(log.at(-1)!.at).toBe(clock.now());
  });
});

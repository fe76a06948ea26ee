import { describe, expect, it } from "vitest";
import { ThrottledError } from "../src/errors.js";
import { AbortedError, type Clock, TimeoutError, waitUntil, withRetry } from "../src/index.js";

/** A clock that moves only when slept on: every sleep jumps it by exactly the delay asked for. */
const steppingClock = (start = 0): Clock & { slept: number[] } => {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
};

describe("waits and retries on the policy's clock", () => {
  it("waitUntil polls on the clock and times out by it, with no wall time spent", async () => {
    const clock = steppingClock();
    const wait = waitUntil(async () => ({ state: "RETRY" as const, reason: "creating" }), {
      description: "a database to be available",
      maxWaitMs: 9 * 60_000,
      minDelayMs: 2_000,
      maxDelayMs: 30_000,
      clock,
    });
    await expect(wait).rejects.toThrow(TimeoutError);
    await expect(wait).rejects.toThrow(/Timed out after 540 s .*\(last seen: creating\)/);
    // Every delay within the policy, and they add up to the deadline exactly: the clock, not the wall, decided.
    expect(clock.slept.every((ms) => ms >= 0 && ms <= 30_000)).toBe(true);
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBe(9 * 60_000);
  });

  it("withRetry backs off on the policy's clock and measures its budget by it", async () => {
    const clock = steppingClock();
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (++calls < 4) throw new ThrottledError("slow down");
        return "ok";
      },
      { policy: { minDelayMs: 1_000, maxDelayMs: 8_000, clock }, maxElapsedMs: 60_000 },
    );
    expect(result).toBe("ok");
    expect(clock.slept).toHaveLength(3);
    expect(clock.now()).toBe(clock.slept.reduce((a, b) => a + b, 0));
  });

  it("an abort ends a wait on a clock that would never wake it", async () => {
    const never: Clock = { now: () => 0, sleep: () => new Promise(() => {}) };
    const controller = new AbortController();
    const wait = waitUntil(async () => ({ state: "RETRY" as const }), {
      description: "something",
      maxWaitMs: 60_000,
      clock: never,
      signal: controller.signal,
    });
    setImmediate(() => controller.abort());
    await expect(wait).rejects.toThrow(AbortedError);
  });
});

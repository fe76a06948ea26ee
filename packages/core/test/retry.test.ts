import { describe, expect, it } from "vitest";
import {
  callRetryBudgetMs,
  defaultPollPolicy,
  NotFoundError,
  ProviderError,
  retriesExhausted,
  ThrottledError,
  withRetry,
} from "../src/index.js";

// No waiting: every backoff is 0 ms, and time is a counter the test advances.
const instant = { minDelayMs: 0, maxDelayMs: 0 };
const failing = (make: () => Error) => {
  let calls = 0;
  const fn = async (): Promise<never> => {
    calls++;
    throw make();
  };
  return { fn, calls: () => calls };
};

describe("withRetry: one retry budget per call", () => {
  it("marks the error it gives up on, and an outer withRetry does not retry it again", async () => {
    const call = failing(() => new ProviderError("EC2 RunInstances failed", { retryable: true }));
    const inner = () => withRetry(call.fn, { maxAttempts: 3, policy: instant });
    // The orchestrator's resource-level retry, with its default options.
    const error = await withRetry(inner, { policy: instant }).catch((e: unknown) => e);
    expect(call.calls()).toBe(3);
    expect(retriesExhausted(error)).toBe(true);
    expect((error as ProviderError).attempts).toBe(3);
    expect((error as Error).message).toMatch(/^EC2 RunInstances failed \(gave up after 3 attempts in \d/);
  });

  it("still retries at the resource level for a provider whose calls do not retry", async () => {
    const call = failing(() => new ThrottledError("rate exceeded"));
    const error = await withRetry(call.fn, { policy: instant }).catch((e: unknown) => e);
    expect(call.calls()).toBe(6);
    expect((error as ThrottledError).attempts).toBe(6);
  });

  it("passes a non-retryable error through at once, unmarked and unchanged", async () => {
    const call = failing(() => new NotFoundError("no such thing"));
    const error = await withRetry(call.fn, { policy: instant }).catch((e: unknown) => e);
    expect(call.calls()).toBe(1);
    expect([retriesExhausted(error), (error as Error).message]).toEqual([false, "no such thing"]);
  });

  it("stops when the next wait would pass the time budget, measured on the given clock", async () => {
    let now = 0;
    const call = failing(() => {
      now += 10_000; // each attempt takes 10 s
      return new ProviderError("RDS CreateDBInstance failed", { retryable: true });
    });
    const error = await withRetry(call.fn, {
      maxAttempts: 100,
      maxElapsedMs: 25_000,
      policy: instant,
      now: () => now,
    }).catch((e: unknown) => e);
    // 10 s and 20 s are within the budget; after the third attempt (30 s) no wait is started.
    expect(call.calls()).toBe(3);
    expect((error as ProviderError).attempts).toBe(3);
    expect((error as Error).message).toContain("(gave up after 3 attempts in 30 s");
    expect((error as Error).message).toContain("25 s retry budget");
  });

  it("does not start a Retry-After wait that ends past the budget, or is longer than allowed", async () => {
    const overBudget = failing(() => new ThrottledError("slow down", { retryAfterSeconds: 20 }));
    const a = await withRetry(overBudget.fn, { maxElapsedMs: 10_000, policy: instant, now: () => 0 }).catch(
      (e: unknown) => e,
    );
    expect([overBudget.calls(), (a as ThrottledError).attempts]).toEqual([1, 1]);

    const blocked = failing(() => new ThrottledError("rate limited", { retryAfterSeconds: 300 }));
    const b = await withRetry(blocked.fn, { maxRetryAfterMs: 60_000, policy: instant }).catch(
      (e: unknown) => e,
    );
    expect(blocked.calls()).toBe(1);
    expect((b as Error).message).toContain("the service asked to wait 300 s");
    expect(retriesExhausted(b)).toBe(true);
  });

  it("returns the value once a retry succeeds, reporting each retry", async () => {
    let calls = 0;
    const retries: number[] = [];
    const value = await withRetry(
      async (attempt) => {
        calls++;
        if (attempt < 3) throw new ThrottledError("rate exceeded");
        return "ok";
      },
      { policy: instant, onRetry: (_e, attempt) => retries.push(attempt) },
    );
    expect([value, calls, retries]).toEqual(["ok", 3, [1, 2]]);
  });

  it("derives a call's time budget from the poll policy, never under 30 s", () => {
    expect(callRetryBudgetMs(defaultPollPolicy)).toBe(180_000);
    expect(callRetryBudgetMs({ minDelayMs: 5, maxDelayMs: 50 })).toBe(30_000);
  });
});

import { AbortedError, ProviderError, TimeoutError } from "./errors.js";

/** What one poll found: done (with a value), not yet, or a terminal failure. */
export type WaiterResult<T> =
  | { readonly state: "SUCCESS"; readonly value: T }
  | { readonly state: "RETRY"; readonly reason?: string }
  | { readonly state: "FAILURE"; readonly reason: string };

/**
 * The time waits and retries run on. Real time by default; a test or a benchmark hands in a virtual one (the
 * emulator's `VirtualClock`, which advances only when every client is waiting), so a 9-minute database takes no
 * wall time and no step races the wall clock.
 */
export interface Clock {
  /** Milliseconds since the epoch, by this clock. */
  now(): number;
  /** Resolves once `ms` of this clock's time have passed (aborts are handled by the caller, `sleepOn`). */
  sleep(ms: number): Promise<void>;
}

/** How often to poll. The orchestrator passes one down in every `ResourceContext`. */
export interface PollPolicy {
  /** First delay and lower bound of the jittered backoff. */
  readonly minDelayMs: number;
  /** Upper bound of the backoff. */
  readonly maxDelayMs: number;
  /**
   * The clock the delays and deadlines are measured on; absent: real time. It travels with the policy, so every
   * wait and retry that is handed `ctx.poll` runs on it, in core and in providers alike.
   */
  readonly clock?: Clock | undefined;
}

export const defaultPollPolicy: PollPolicy = { minDelayMs: 2_000, maxDelayMs: 30_000 };

export interface WaitOptions extends Partial<PollPolicy> {
  /** What is awaited, for the timeout message, e.g. `DB instance k3s-prod-db to be available`. */
  readonly description: string;
  /** Give up after this long with a `TimeoutError`: a wait never reports success on timeout. */
  readonly maxWaitMs: number;
  /** Stops waiting with an `AbortedError`. */
  readonly signal?: AbortSignal | undefined;
  /** Called after each RETRY, e.g. to report progress. */
  readonly onRetry?: ((attempt: number, reason: string | undefined) => void) | undefined;
}

/** Sleeps, or rejects as soon as the signal aborts. */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError(undefined, { cause: signal.reason }));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError(undefined, { cause: signal?.reason }));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** Sleeps `ms` on `clock` (real time when absent), or rejects with `AbortedError` as soon as the signal aborts. */
export const sleepOn = (clock: Clock | undefined, ms: number, signal?: AbortSignal): Promise<void> => {
  if (!clock) return sleep(ms, signal);
  if (signal?.aborted) return Promise.reject(new AbortedError(undefined, { cause: signal.reason }));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new AbortedError(undefined, { cause: signal?.reason }));
    signal?.addEventListener("abort", onAbort, { once: true });
    clock.sleep(ms).then(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, reject);
  });
};

/** Exponential backoff with full jitter between `min` and the growing cap (as smithy's waiter does). */
export const backoffDelay = (
  attempt: number,
  policy: PollPolicy,
  random: () => number = Math.random,
): number => {
  const cap = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(policy.minDelayMs + random() * Math.max(0, cap - policy.minDelayMs));
};

/**
 * Polls `check` until it succeeds, fails, the time runs out or the signal aborts. One small state machine:
 * SUCCESS returns the value, FAILURE throws `ProviderError`, RETRY sleeps with jittered backoff, and the
 * deadline throws `TimeoutError`.
 */
export async function waitUntil<T>(check: () => Promise<WaiterResult<T>>, options: WaitOptions): Promise<T> {
  const policy: PollPolicy = {
    minDelayMs: options.minDelayMs ?? defaultPollPolicy.minDelayMs,
    maxDelayMs: options.maxDelayMs ?? defaultPollPolicy.maxDelayMs,
  };
  const clock = options.clock;
  const now = () => (clock ? clock.now() : Date.now());
  const deadline = now() + options.maxWaitMs;
  let lastReason: string | undefined;
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw new AbortedError(undefined, { cause: options.signal.reason });
    const result = await check();
    if (result.state === "SUCCESS") return result.value;
    if (result.state === "FAILURE")
      throw new ProviderError(`Gave up waiting for ${options.description}: ${result.reason}`);
    lastReason = result.reason;
    options.onRetry?.(attempt, result.reason);
    const remaining = deadline - now();
    if (remaining <= 0) {
      throw new TimeoutError(
        `Timed out after ${Math.round(options.maxWaitMs / 1000)} s waiting for ${options.description}` +
          (lastReason ? ` (last seen: ${lastReason})` : ""),
      );
    }
    await sleepOn(clock, Math.min(backoffDelay(attempt, policy), remaining), options.signal);
  }
}

import { K3sinfraError } from "./errors.js";
import { backoffDelay, type PollPolicy, sleepOn } from "./wait.js";

export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts?: number;
  /**
   * Time for all attempts and waits together, from the first attempt: a wait that would end past it is not
   * started, the call gives up instead. Default: no bound beyond the attempts (and the signal).
   */
  readonly maxElapsedMs?: number;
  /** A service asking to wait longer than this (Retry-After) is not waited for: the call gives up at once. */
  readonly maxRetryAfterMs?: number;
  /** Backoff bounds; a Retry-After from the service takes precedence when longer. */
  readonly policy?: PollPolicy;
  readonly signal?: AbortSignal | undefined;
  /** Which errors to retry; default: k3sinfra errors marked `retryable` (throttling, transient faults). */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Called before each retry, e.g. to report "throttled, retrying in 3 s". */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** The clock the time budget is measured with; tests inject one. Default the policy's clock, else `Date.now`. */
  readonly now?: () => number;
}

export const defaultRetryPolicy: PollPolicy = { minDelayMs: 500, maxDelayMs: 20_000 };

/** Attempts of one cloud call's retry budget: at 10% throttling per call, eight attempts all fail with odds of 1e-8. */
export const CALL_MAX_ATTEMPTS = 8;

/**
 * The time budget of one cloud call's retries under a backoff policy: six of its longest waits (3 min with
 * the default poll policy's 30 s cap), and never under 30 s, so that under the emulator's scaled-down policy
 * a loaded machine runs out of attempts, not of time.
 */
export const callRetryBudgetMs = (policy: PollPolicy): number => Math.max(30_000, 6 * policy.maxDelayMs);

/** True when a retry budget already gave up on this error: retrying it again would multiply the attempts. */
export const retriesExhausted = (error: unknown): boolean =>
  K3sinfraError.is(error) && error.attempts !== undefined;

const retryableByDefault = (error: unknown): boolean => K3sinfraError.is(error) && error.retryable;

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/** Marks a k3sinfra error as final (see `K3sinfraError.attempts`) and says in its message why it is. */
function giveUp(error: unknown, attempts: number, elapsedMs: number, why?: string): unknown {
  if (!K3sinfraError.is(error) || error.attempts !== undefined) return error;
  error.attempts = attempts;
  const tried = `${attempts} attempt${attempts === 1 ? "" : "s"} in ${seconds(elapsedMs)}`;
  error.message = `${error.message} (gave up after ${tried}${why ? `: ${why}` : ""})`;
  return error;
}

/**
 * The one retry policy for throttling and transient errors: jittered exponential backoff that honours a
 * service's Retry-After, bounded by `maxAttempts` and `maxElapsedMs`, cancelled by the signal.
 * Non-retryable errors pass through unchanged. When the budget runs out, the last error is marked final
 * (`attempts`, and a note in its message) and an error already marked final is never retried: one retry
 * layer per call, however many `withRetry` calls are nested.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 6;
  const policy = options.policy ?? defaultRetryPolicy;
  const isRetryable = options.isRetryable ?? retryableByDefault;
  const clock = policy.clock;
  const now = options.now ?? (clock ? () => clock.now() : Date.now);
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (retriesExhausted(error) || !isRetryable(error) || options.signal?.aborted) throw error;
      const elapsed = now() - started;
      if (attempt >= maxAttempts) throw giveUp(error, attempt, elapsed);
      const retryAfterMs = K3sinfraError.is(error) ? (error.retryAfterSeconds ?? 0) * 1000 : 0;
      if (options.maxRetryAfterMs !== undefined && retryAfterMs > options.maxRetryAfterMs)
        throw giveUp(error, attempt, elapsed, `the service asked to wait ${seconds(retryAfterMs)}`);
      const delay = Math.max(backoffDelay(attempt, policy), retryAfterMs);
      if (options.maxElapsedMs !== undefined && elapsed + delay > options.maxElapsedMs)
        throw giveUp(
          error,
          attempt,
          elapsed,
          `waiting ${seconds(delay)} more would pass the ${seconds(options.maxElapsedMs)} retry budget`,
        );
      options.onRetry?.(error, attempt, delay);
      await sleepOn(clock, delay, options.signal);
    }
  }
}

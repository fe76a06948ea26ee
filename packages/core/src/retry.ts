import { K3sinfraError } from "./errors.js";
import { backoffDelay, type PollPolicy, sleep } from "./wait.js";

export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts?: number;
  /** Backoff bounds; a Retry-After from the service takes precedence when longer. */
  readonly policy?: PollPolicy;
  readonly signal?: AbortSignal | undefined;
  /** Which errors to retry; default: k3sinfra errors marked `retryable` (throttling, transient faults). */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Called before each retry, e.g. to report "throttled, retrying in 3 s". */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export const defaultRetryPolicy: PollPolicy = { minDelayMs: 500, maxDelayMs: 20_000 };

const retryableByDefault = (error: unknown): boolean => K3sinfraError.is(error) && error.retryable;

/**
 * The one retry policy for throttling and transient errors: jittered exponential backoff that honours a
 * service's Retry-After, bounded by `maxAttempts`, cancelled by the signal. Non-retryable errors pass through.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 6;
  const policy = options.policy ?? defaultRetryPolicy;
  const isRetryable = options.isRetryable ?? retryableByDefault;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || !isRetryable(error) || options.signal?.aborted) throw error;
      const retryAfterMs = K3sinfraError.is(error) ? (error.retryAfterSeconds ?? 0) * 1000 : 0;
      const delay = Math.max(backoffDelay(attempt, policy), retryAfterMs);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}

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

/** What one cloud call needs from its caller; a `ResourceContext` has all of it. */
export interface CallContext {
  readonly signal?: AbortSignal | undefined;
  /** Backoff bounds: the resource context's poll policy (small under the emulator), its clock with it. */
  readonly poll?: PollPolicy | undefined;
  report?(message: string): void;
  /**
   * Holds one of the command's API-call slots for one request (`ResourceContext.limit`): each attempt takes
   * one, the backoff between attempts none.
   */
  readonly limit?: (<R>(request: () => Promise<R>) => Promise<R>) | undefined;
}

export interface CloudCallOptions {
  /** Makes a core error of whatever the client threw, naming the call, with secrets scrubbed. */
  readonly mapError: (error: unknown) => unknown;
  /** Why a call is retried, in a few words, for progress (default: the error's code). */
  readonly reason?: ((error: unknown) => string | undefined) | undefined;
  /** A service asking to wait longer than this fails the call at once (see `RetryOptions.maxRetryAfterMs`). */
  readonly maxRetryAfterMs?: number | undefined;
}

/**
 * One request to a cloud, with the call's one retry budget (`CALL_MAX_ATTEMPTS` attempts within
 * `callRetryBudgetMs`; the client must retry nothing itself): what the client throws becomes a core error, and
 * throttling or transient failures are retried with jittered backoff that honours Retry-After. An error the
 * budget gave up on is final, so the orchestrator's resource-level retry does not repeat it. A dependency not
 * drained yet (`DependencyViolation`) is the caller's to wait for, not a blip to retry. Each attempt holds one
 * API-call slot. Every provider's call wrapper is this with its own error mapping.
 * @param what names the call in errors and progress, e.g. `<Service> <Operation> (<resource name>)`.
 */
export function cloudCall<T>(
  what: string,
  ctx: CallContext,
  fn: () => Promise<T>,
  options: CloudCallOptions,
): Promise<T> {
  const policy = ctx.poll ?? defaultRetryPolicy;
  const reason = (error: unknown): string =>
    options.reason?.(error) ?? (K3sinfraError.is(error) ? error.code : undefined) ?? "transient error";
  return withRetry(
    async () => {
      try {
        return await (ctx.limit ? ctx.limit(fn) : fn());
      } catch (error) {
        throw options.mapError(error);
      }
    },
    {
      maxAttempts: CALL_MAX_ATTEMPTS,
      maxElapsedMs: callRetryBudgetMs(policy),
      ...(options.maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs: options.maxRetryAfterMs }),
      policy,
      isRetryable: (error) =>
        K3sinfraError.is(error) && error.retryable && error.code !== "DependencyViolation",
      signal: ctx.signal,
      onRetry: (error, attempt, delayMs) =>
        ctx.report?.(`${what}: ${reason(error)}, retry ${attempt} in ${Math.round(delayMs)} ms`),
    },
  );
}

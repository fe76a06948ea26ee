import {
  CALL_MAX_ATTEMPTS,
  callRetryBudgetMs,
  defaultRetryPolicy,
  K3sinfraError,
  type PollPolicy,
  withRetry,
} from "@k3sinfra/core";
import { mapGoogleError } from "./errors.js";

/** What a Google call needs from its caller: cancellation, a backoff scale, a progress sink, an API slot. */
export interface CallContext {
  readonly signal?: AbortSignal | undefined;
  readonly poll?: PollPolicy | undefined;
  report?(message: string): void;
  readonly limit?: (<R>(request: () => Promise<R>) => Promise<R>) | undefined;
}

/**
 * Runs one client call with core's retry policy: errors become core errors (secrets scrubbed) and throttling
 * or transient failures are retried with jittered backoff, within one budget (`CALL_MAX_ATTEMPTS` attempts in
 * `callRetryBudgetMs`). The clients retry nothing themselves (`retry: null` in `callOptions`).
 * @param what names the call in errors and progress, e.g. `Compute instances.insert (k3s-prod-n0)`.
 */
export function gcpCall<T>(
  what: string,
  ctx: CallContext,
  fn: () => Promise<T>,
  secrets: readonly string[] = [],
): Promise<T> {
  const policy = ctx.poll ?? defaultRetryPolicy;
  return withRetry(
    async () => {
      try {
        return await (ctx.limit ? ctx.limit(fn) : fn());
      } catch (error) {
        throw mapGoogleError(error, what, secrets);
      }
    },
    {
      maxAttempts: CALL_MAX_ATTEMPTS,
      maxElapsedMs: callRetryBudgetMs(policy),
      policy,
      isRetryable: (error) =>
        K3sinfraError.is(error) && error.retryable && error.code !== "DependencyViolation",
      signal: ctx.signal,
      onRetry: (error, attempt, delayMs) =>
        ctx.report?.(
          `${what}: ${K3sinfraError.is(error) && error.httpStatus ? `HTTP ${error.httpStatus}` : "transient error"}, retry ${attempt} in ${Math.round(delayMs)} ms`,
        ),
    },
  );
}

/** Per-call options for the gax clients: one attempt each, since gcpCall retries (one budget, not two). */
export const ONE_ATTEMPT = { retry: { retryCodes: [] as number[] } };

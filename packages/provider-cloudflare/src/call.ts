import {
  CALL_MAX_ATTEMPTS,
  callRetryBudgetMs,
  defaultRetryPolicy,
  K3sinfraError,
  type PollPolicy,
  withRetry,
} from "@k3sinfra/core";
import { mapCloudflareError } from "./errors.js";

/** What a Cloudflare call needs from its caller: cancellation, a backoff scale and a progress sink. */
export interface CallContext {
  readonly signal?: AbortSignal | undefined;
  /** Backoff bounds; the resource context's poll policy (small under the emulator). */
  readonly poll?: PollPolicy | undefined;
  report?(message: string): void;
  /**
   * Holds one of the command's API-call slots for one request (`ResourceContext.limit`): each attempt takes
   * one, the backoff between attempts none.
   */
  readonly limit?: (<R>(request: () => Promise<R>) => Promise<R>) | undefined;
}

/**
 * Past its quota Cloudflare blocks a token for five minutes; waiting that out inside one call would look like
 * a hang, so a throttle asking for longer than this fails at once with the wait in its message.
 * https://developers.cloudflare.com/fundamentals/api/reference/limits/
 */
export const MAX_RETRY_AFTER_SECONDS = 60;

/**
 * Runs one client call with core's retry policy: failures become core errors (the token scrubbed), and
 * throttling or transient failures are retried with jittered backoff that honours Retry-After. This is the
 * call's one retry budget (`CALL_MAX_ATTEMPTS` attempts within `callRetryBudgetMs`; the client retries
 * nothing itself): an error it gave up on is final, so the orchestrator does not retry it again.
 * @param what names the call in errors and progress.
 * @param fn receives the request options (abort signal) to hand to the client.
 * @param secrets values that must never appear in an error message.
 */
export function cfCall<T>(
  what: string,
  ctx: CallContext,
  fn: (options: { signal?: AbortSignal }) => Promise<T>,
  secrets: readonly string[] = [],
): Promise<T> {
  const options = ctx.signal ? { signal: ctx.signal } : {};
  const policy = ctx.poll ?? defaultRetryPolicy;
  return withRetry(
    async () => {
      try {
        return await (ctx.limit ? ctx.limit(() => fn(options)) : fn(options));
      } catch (error) {
        throw mapCloudflareError(error, what, secrets);
      }
    },
    {
      maxAttempts: CALL_MAX_ATTEMPTS,
      maxElapsedMs: callRetryBudgetMs(policy),
      maxRetryAfterMs: MAX_RETRY_AFTER_SECONDS * 1000,
      policy,
      signal: ctx.signal,
      onRetry: (error, attempt, delayMs) =>
        ctx.report?.(
          `${what}: ${K3sinfraError.is(error) ? error.code : "transient error"}, retry ${attempt} in ${Math.round(delayMs)} ms`,
        ),
    },
  );
}

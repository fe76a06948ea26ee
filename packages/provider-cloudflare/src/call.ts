import { defaultRetryPolicy, K3sinfraError, type PollPolicy, withRetry } from "@k3sinfra/core";
import { mapCloudflareError } from "./errors.js";

/** What a Cloudflare call needs from its caller: cancellation, a backoff scale and a progress sink. */
export interface CallContext {
  readonly signal?: AbortSignal | undefined;
  /** Backoff bounds; the resource context's poll policy (small under the emulator). */
  readonly poll?: PollPolicy | undefined;
  report?(message: string): void;
}

/**
 * Past its quota Cloudflare blocks a token for five minutes; waiting that out inside one call would look like
 * a hang, so a throttle asking for longer than this fails at once with the wait in its message.
 * https://developers.cloudflare.com/fundamentals/api/reference/limits/
 */
export const MAX_RETRY_AFTER_SECONDS = 60;

/**
 * Runs one client call with core's retry policy: failures become core errors (the token scrubbed), and
 * throttling or transient failures are retried with jittered backoff that honours Retry-After.
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
  return withRetry(
    async () => {
      try {
        return await fn(options);
      } catch (error) {
        throw mapCloudflareError(error, what, secrets);
      }
    },
    {
      maxAttempts: 6,
      policy: ctx.poll ?? defaultRetryPolicy,
      isRetryable: (error) =>
        K3sinfraError.is(error) &&
        error.retryable &&
        (error.retryAfterSeconds ?? 0) <= MAX_RETRY_AFTER_SECONDS,
      signal: ctx.signal,
      onRetry: (error, attempt, delayMs) =>
        ctx.report?.(
          `${what}: ${K3sinfraError.is(error) ? error.code : "transient error"}, retry ${attempt} in ${Math.round(delayMs)} ms`,
        ),
    },
  );
}

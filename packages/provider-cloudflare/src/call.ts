import { type CallContext, cloudCall } from "@k3sinfra/core";
import { mapCloudflareError } from "./errors.js";

export type { CallContext } from "@k3sinfra/core";

/**
 * Past its quota Cloudflare blocks a token for five minutes; waiting that out inside one call would look like
 * a hang, so a throttle asking for longer than this fails at once with the wait in its message.
 * https://developers.cloudflare.com/fundamentals/api/reference/limits/
 */
export const MAX_RETRY_AFTER_SECONDS = 60;

/**
 * Runs one client call with core's retry budget (`cloudCall`; the client retries nothing itself): failures
 * become core errors (the token scrubbed).
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
  return cloudCall(what, ctx, () => fn(options), {
    mapError: (error) => mapCloudflareError(error, what, secrets),
    maxRetryAfterMs: MAX_RETRY_AFTER_SECONDS * 1000,
  });
}

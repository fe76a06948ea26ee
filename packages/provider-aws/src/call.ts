import { defaultRetryPolicy, K3sinfraError, type PollPolicy, withRetry } from "@k3sinfra/core";
import { awsCodes, mapAwsError } from "./errors.js";

/** What an AWS call needs from its caller: cancellation, a backoff scale and a progress sink. */
export interface CallContext {
  readonly signal?: AbortSignal | undefined;
  /** Backoff bounds; the resource context's poll policy (small under the emulator). */
  readonly poll?: PollPolicy | undefined;
  report?(message: string): void;
}

/**
 * Runs one SDK call with core's retry policy: SDK errors become core errors (secrets scrubbed), and
 * throttling or transient failures are retried with jittered backoff that honours Retry-After.
 * @param what names the call in errors and progress, e.g. `EC2 RunInstances (k3s-prod-n1)`.
 * @param fn receives the abort signal to hand to the SDK.
 * @param secrets values that must never appear in an error message.
 */
export function awsCall<T>(
  what: string,
  ctx: CallContext,
  fn: (options: { abortSignal?: AbortSignal }) => Promise<T>,
  secrets: readonly string[] = [],
): Promise<T> {
  const options = ctx.signal ? { abortSignal: ctx.signal } : {};
  return withRetry(
    async () => {
      try {
        return await fn(options);
      } catch (error) {
        throw mapAwsError(error, what, secrets);
      }
    },
    {
      // Throttling at 10% per call must still converge: eight attempts fail with odds of 1e-8.
      maxAttempts: 8,
      policy: ctx.poll ?? defaultRetryPolicy,
      // A dependency that has not drained yet is the caller's to wait for (with waitUntil), not a blip.
      isRetryable: (error) =>
        K3sinfraError.is(error) && error.retryable && error.code !== "DependencyViolation",
      signal: ctx.signal,
      onRetry: (error, attempt, delayMs) =>
        ctx.report?.(
          `${what}: ${awsCodes(error)[0] ?? "transient error"}, retry ${attempt} in ${Math.round(delayMs)} ms`,
        ),
    },
  );
}

/**
 * Collects every page of a token-paged list call.
 * @param page fetches one page given the previous page's token.
 */
export async function collectPages<P, T>(
  page: (token: string | undefined) => Promise<P>,
  items: (page: P) => readonly T[] | undefined,
  next: (page: P) => string | undefined,
): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const p = await page(token);
    all.push(...(items(p) ?? []));
    token = next(p);
  } while (token);
  return all;
}

import {
  CALL_MAX_ATTEMPTS,
  callRetryBudgetMs,
  defaultRetryPolicy,
  K3sinfraError,
  type PollPolicy,
  withRetry,
} from "@k3sinfra/core";
import { awsCodes, mapAwsError } from "./errors.js";

/** What an AWS call needs from its caller: cancellation, a backoff scale and a progress sink. */
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
 * Runs one SDK call with core's retry policy: SDK errors become core errors (secrets scrubbed), and
 * throttling or transient failures are retried with jittered backoff that honours Retry-After. This is the
 * call's one retry budget (`CALL_MAX_ATTEMPTS` attempts within `callRetryBudgetMs`): the SDK client makes
 * one attempt per send, and an error this budget gave up on is final, so the orchestrator's resource-level
 * retry does not repeat it. The final error names the call, the HTTP status, the request id and the attempts.
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
  const policy = ctx.poll ?? defaultRetryPolicy;
  return withRetry(
    async () => {
      try {
        return await (ctx.limit ? ctx.limit(() => fn(options)) : fn(options));
      } catch (error) {
        throw mapAwsError(error, what, secrets);
      }
    },
    {
      maxAttempts: CALL_MAX_ATTEMPTS,
      maxElapsedMs: callRetryBudgetMs(policy),
      policy,
      // A dependency that has not drained yet is the caller's to wait for (with waitUntil), not a blip.
      isRetryable: (error) =>
        K3sinfraError.is(error) && error.retryable && error.code !== "DependencyViolation",
      signal: ctx.signal,
      onRetry: (error, attempt, delayMs) =>
        ctx.report?.(`${what}: ${retryReason(error)}, retry ${attempt} in ${Math.round(delayMs)} ms`),
    },
  );
}

/** Why a call is retried, in a few words: the AWS code, else the HTTP status. */
const retryReason = (error: unknown): string => {
  const code = awsCodes(error).find((c) => c !== "Unknown" && c !== "UnknownError");
  if (code) return code;
  const status = K3sinfraError.is(error) ? error.httpStatus : undefined;
  return status === undefined ? "transient error" : `HTTP ${status}`;
};

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

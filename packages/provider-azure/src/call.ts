import {
  CALL_MAX_ATTEMPTS,
  callRetryBudgetMs,
  defaultPollPolicy,
  defaultRetryPolicy,
  K3sinfraError,
  type PollPolicy,
  sleepOn,
  withRetry,
} from "@k3sinfra/core";
import { azureCode, mapAzureError } from "./errors.js";
import { inCallScope } from "./operation-scope.js";

/** What an Azure call needs from its caller: cancellation, a backoff scale, progress, the API-call slots. */
export interface CallContext {
  readonly signal?: AbortSignal | undefined;
  readonly poll?: PollPolicy | undefined;
  report?(message: string): void;
  readonly limit?: (<R>(request: () => Promise<R>) => Promise<R>) | undefined;
}

/**
 * Runs one SDK request with core's retry policy: SDK errors become core errors (secrets scrubbed), and
 * throttling or transient failures are retried with jittered backoff that honours Retry-After, within the
 * call's one budget (the clients retry nothing themselves). Each attempt holds one API-call slot.
 * @param what names the call in errors and progress, e.g. `Network VirtualNetworks_CreateOrUpdate (k3s-vnet)`.
 */
export function azureCall<T>(
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
        const send = () => inCallScope(what, ctx, secrets, false, () => fn(options));
        return await (ctx.limit ? ctx.limit(send) : send());
      } catch (error) {
        throw mapAzureError(error, what, secrets);
      }
    },
    {
      maxAttempts: CALL_MAX_ATTEMPTS,
      maxElapsedMs: callRetryBudgetMs(policy),
      policy,
      // A resource still in use is the caller's to wait for (waitUntil), not a blip to retry.
      isRetryable: (error) =>
        K3sinfraError.is(error) && error.retryable && error.code !== "DependencyViolation",
      signal: ctx.signal,
      onRetry: (error, attempt, delayMs) =>
        ctx.report?.(
          `${what}: ${azureCode(error) ?? "transient error"}, retry ${attempt} in ${Math.round(delayMs)} ms`,
        ),
    },
  );
}

/** What `azureOperation` needs of an SDK poller (`SimplePollerLike` of @azure/core-lro). */
export interface OperationPoller<T> {
  isDone(): boolean;
  poll(options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  getResult(): T | undefined;
}

/**
 * A long-running operation: started once (`begin`, one call), then polled one status request at a time, on
 * core's clock, holding no API-call slot between requests. A throttled or failed status request is sent again
 * in the pipeline (operation-scope.ts), so the operation is not started over; one that ends `Failed` is
 * reported, and the next `up` starts it again.
 */
export async function azureOperation<T>(
  what: string,
  ctx: CallContext,
  begin: (options: { abortSignal?: AbortSignal }) => Promise<OperationPoller<T>>,
  secrets: readonly string[] = [],
): Promise<T | undefined> {
  const poller = await azureCall(what, ctx, begin, secrets);
  const policy = ctx.poll ?? defaultPollPolicy;
  const options = ctx.signal ? { abortSignal: ctx.signal } : {};
  while (!poller.isDone()) {
    await sleepOn(policy.clock, policy.minDelayMs, ctx.signal);
    const poll = () => inCallScope(what, ctx, secrets, true, () => poller.poll(options));
    try {
      await (ctx.limit ? ctx.limit(poll) : poll());
    } catch (error) {
      throw mapAzureError(error, what, secrets);
    }
  }
  return poller.getResult();
}

/** `undefined` for a 404, the value otherwise: reads that tolerate a missing object. */
export async function orMissing<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (error) {
    if (K3sinfraError.is(error, "NotFound")) return undefined;
    throw error;
  }
}

/** Every item of a paged list (the clients' async iterators). */
export async function collect<T>(iter: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iter) out.push(item);
  return out;
}

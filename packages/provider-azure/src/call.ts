import { type CallContext, cloudCall, defaultPollPolicy, K3sinfraError, sleepOn } from "@k3sinfra/core";
import { azureCode, mapAzureError } from "./errors.js";
import { inCallScope } from "./operation-scope.js";

export type { CallContext } from "@k3sinfra/core";

/**
 * Runs one SDK request with core's retry budget (`cloudCall`; the clients retry nothing themselves): SDK errors
 * become core errors (secrets scrubbed). The request runs in a call scope, so that the status requests of a
 * long-running operation it starts are retried in the pipeline (operation-scope.ts).
 * @param what names the call in errors and progress, e.g. `Network VirtualNetworks_CreateOrUpdate (k3s-vnet)`.
 */
export function azureCall<T>(
  what: string,
  ctx: CallContext,
  fn: (options: { abortSignal?: AbortSignal }) => Promise<T>,
  secrets: readonly string[] = [],
): Promise<T> {
  const options = ctx.signal ? { abortSignal: ctx.signal } : {};
  return cloudCall(what, ctx, () => inCallScope(what, ctx, secrets, false, () => fn(options)), {
    mapError: (error) => mapAzureError(error, what, secrets),
    reason: azureCode,
  });
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

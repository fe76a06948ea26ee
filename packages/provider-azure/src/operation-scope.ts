/**
 * The status requests of a long-running operation, retried where the SDKs expect it: in the pipeline.
 *
 * The clients' pollers (@azure/core-lro 2 and 3) take any failed status request for the operation's own
 * failure — `isOperationError` is "the error is a RestError", and the poller is then `failed` for good — because
 * they count on the pipeline's retry policy to absorb 429s and 5xx first
 * (https://github.com/Azure/azure-sdk-for-js/blob/main/sdk/core/core-lro/src/poller/operation.ts). Our clients
 * retry nothing themselves (core's retry budget is the one layer), so without this one throttled GET would end an
 * operation still running and the call would start it again: ARM counts every status GET against the
 * subscription's read limit (https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling).
 *
 * Within a call (`inCallScope`), once a write has gone out, the GETs that follow are the poller's; a throttled or
 * failed one is sent again here, on core's backoff and clock, within the call's retry budget. Plain reads are
 * left to the caller's retry.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { cloudCall } from "@k3sinfra/core";
import type { CallContext } from "./call.js";
import { azureCode, mapAzureError } from "./errors.js";

interface CallScope {
  readonly what: string;
  readonly ctx: CallContext;
  readonly secrets: readonly string[];
  /** A write went out in this call (or the call is a poll): GETs now are status requests. */
  polling: boolean;
}

const scope = new AsyncLocalStorage<CallScope>();

/** Runs one call's requests in a scope the pipeline policy sees; `polling` when every GET is a status request. */
export const inCallScope = <T>(
  what: string,
  ctx: CallContext,
  secrets: readonly string[],
  polling: boolean,
  fn: () => Promise<T>,
): Promise<T> => scope.run({ what, ctx, secrets, polling }, fn);

/** The fields of @azure/core-rest-pipeline's request and response this policy reads. */
interface RequestLike {
  readonly method: string;
  readonly requestId?: string;
  readonly abortSignal?: AbortSignal | { readonly aborted: boolean };
}
interface ResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | undefined };
  readonly bodyAsText?: string | null;
}

/** A status answer worth asking again: throttled, timed out, or a server error. */
const transient = (status: number): boolean => status === 429 || status === 408 || status >= 500;

/** The RestError the SDK would have made of this answer, as core's error. */
function errorOf(response: ResponseLike, request: RequestLike, what: string, secrets: readonly string[]) {
  let details: { error?: { code?: string; message?: string } } | undefined;
  try {
    details = JSON.parse(response.bodyAsText ?? "");
  } catch {
    details = undefined;
  }
  return mapAzureError(
    {
      name: "RestError",
      statusCode: response.status,
      code: details?.error?.code,
      message: details?.error?.message ?? `HTTP ${response.status}`,
      details,
      response,
      request: { requestId: response.headers.get("x-ms-request-id") ?? request.requestId },
    },
    what,
    secrets,
  );
}

/** A pipeline policy (`additionalPolicies`, per call) retrying the status requests of an operation. */
export const operationStatusPolicy = {
  name: "k3sinfraOperationStatusRetry",
  async sendRequest<Q extends RequestLike, R extends ResponseLike>(
    request: Q,
    next: (request: Q) => Promise<R>,
  ): Promise<R> {
    const s = scope.getStore();
    if (!s) return next(request);
    if (request.method !== "GET") {
      s.polling = true;
      return next(request);
    }
    if (!s.polling) return next(request);
    const what = `${s.what}: status`;
    // Within the call's own API-call slot: the request that started the operation holds it.
    return cloudCall(
      what,
      { ...s.ctx, limit: undefined },
      async () => {
        const response = await next(request);
        if (transient(response.status)) throw errorOf(response, request, what, s.secrets);
        return response;
      },
      { mapError: (error) => mapAzureError(error, what, s.secrets), reason: azureCode },
    );
  },
};

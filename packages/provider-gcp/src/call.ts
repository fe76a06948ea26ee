import { type CallContext, cloudCall, K3sinfraError } from "@k3sinfra/core";
import { mapGoogleError } from "./errors.js";

export type { CallContext } from "@k3sinfra/core";

/**
 * Runs one client call with core's retry budget (`cloudCall`): errors become core errors (secrets scrubbed).
 * The clients retry nothing themselves (`retry: null` in `callOptions`).
 * @param what names the call in errors and progress, e.g. `Compute instances.insert (k3s-prod-n0)`.
 */
export function gcpCall<T>(
  what: string,
  ctx: CallContext,
  fn: () => Promise<T>,
  secrets: readonly string[] = [],
): Promise<T> {
  return cloudCall(what, ctx, fn, {
    mapError: (error) => mapGoogleError(error, what, secrets),
    reason: (error) =>
      K3sinfraError.is(error) && error.httpStatus ? `HTTP ${error.httpStatus}` : "transient error",
  });
}

/** Per-call options for the gax clients: one attempt each, since gcpCall retries (one budget, not two). */
export const ONE_ATTEMPT = { retry: { retryCodes: [] as number[] } };

import { type CallContext, cloudCall, K3sinfraError } from "@k3sinfra/core";
import { awsCodes, mapAwsError } from "./errors.js";

export type { CallContext } from "@k3sinfra/core";

/**
 * Runs one SDK call with core's retry budget (`cloudCall`): SDK errors become core errors (secrets scrubbed);
 * the SDK client makes one attempt per send. The final error names the call, the HTTP status, the request id
 * and the attempts.
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
  return cloudCall(what, ctx, () => fn(options), {
    mapError: (error) => mapAwsError(error, what, secrets),
    reason: retryReason,
  });
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

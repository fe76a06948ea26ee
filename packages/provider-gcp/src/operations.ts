import { createHash } from "node:crypto";
import { ProviderError, waitUntil } from "@k3sinfra/core";
import { type CallContext, gcpCall, ONE_ATTEMPT } from "./call.js";
import type { GcpClients } from "./clients.js";
import { httpStatusOf, mapGoogleError } from "./errors.js";

/** A compute Operation as the clients decode it (the fields read here). */
export interface ComputeOp {
  name?: string | null;
  status?: string | number | null;
  zone?: string | null;
  region?: string | null;
  error?: { errors?: { code?: string | null; message?: string | null }[] | null } | null;
  httpErrorStatusCode?: number | null;
}

/**
 * The `requestId` of one step of one resource: a UUID derived from the resource's idempotency token and the
 * step, so a retry (in this process or after a crash) sends the same one and the API answers with the first
 * operation instead of starting another ("must be a valid UUID … zero UUID is not supported", compute.proto
 * `request_id`).
 */
export const requestId = (token: string, step: string): string => {
  const h = createHash("sha256").update(`${token}/${step}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${"89ab"[Number.parseInt(h[16]!, 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const last = (url: string | null | undefined) => (url ?? "").split("/").pop() ?? "";

/**
 * Starts a compute mutation and waits for its Operation to be DONE through the matching operations client
 * (zonal, regional or global, as the operation says), then checks its `error`, which the API reports on a
 * DONE operation rather than as an HTTP error (https://cloud.google.com/compute/docs/api/how-tos/api-requests-responses#handling_api_responses).
 * @param start makes the call; the clients resolve to `[{ latestResponse: Operation }]`.
 */
export async function computeOp(
  clients: GcpClients,
  what: string,
  ctx: CallContext & { readonly poll: { minDelayMs: number; maxDelayMs: number } },
  start: () => Promise<unknown>,
): Promise<void> {
  const first = await gcpCall(what, ctx, start);
  let op = ((first as [{ latestResponse?: ComputeOp }])[0]?.latestResponse ?? {}) as ComputeOp;
  const project = await clients.project();
  const done = (o: ComputeOp) => o.status === "DONE" || o.status === 3;
  if (!done(op)) {
    op = await waitUntil<ComputeOp>(
      async () => {
        const name = op.name ?? "";
        const got = await gcpCall(`${what}: operation ${name}`, ctx, async () => {
          if (op.zone) {
            const c = await clients.compute("ZoneOperationsClient");
            return (await c.get({ project, zone: last(op.zone), operation: name }, ONE_ATTEMPT))[0];
          }
          if (op.region) {
            const c = await clients.compute("RegionOperationsClient");
            return (await c.get({ project, region: last(op.region), operation: name }, ONE_ATTEMPT))[0];
          }
          const c = await clients.compute("GlobalOperationsClient");
          return (await c.get({ project, operation: name }, ONE_ATTEMPT))[0];
        });
        const o = got as ComputeOp;
        return done(o)
          ? { state: "SUCCESS", value: o }
          : { state: "RETRY", reason: `operation ${name} is ${o.status}` };
      },
      { ...ctx.poll, signal: ctx.signal, maxWaitMs: 30 * 60_000, description: `${what} to finish` },
    );
  }
  const errors = op.error?.errors ?? [];
  if (errors.length > 0) {
    const text = errors.map((e) => `${e.code}: ${e.message}`).join("; ");
    const status = op.httpErrorStatusCode ?? undefined;
    // A DONE operation's error is the API's answer to the request: map it as the HTTP error it stands for.
    throw mapGoogleError(
      Object.assign(new Error(text), { httpStatusCode: status, reason: errors[0]?.code ?? undefined }),
      what,
    );
  }
}

/** Throws a clear error when an operation result lacks what it must carry. */
export const must = <T>(value: T | null | undefined, what: string): T => {
  if (value === null || value === undefined) throw new ProviderError(`${what} is missing in Google's answer`);
  return value;
};

/**
 * Inserts and checks the result exists. An earlier request with the same `requestId` is answered with its
 * first operation, even when what it made was deleted since (a node removed outside k3sinfra): then the
 * insert is made again under the next request id. A 409 (made by an earlier run) is adopted.
 * @param insert makes the insert with the request id of `attempt`.
 */
export async function insertVerified(
  insert: (attempt: number) => Promise<void>,
  exists: () => Promise<boolean>,
  what: string,
): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await insert(attempt);
    } catch (error) {
      if (httpStatusOf(error) !== 409) throw error;
    }
    if (await exists()) return;
  }
  throw new ProviderError(`${what}: the operation finished but the resource does not exist`);
}

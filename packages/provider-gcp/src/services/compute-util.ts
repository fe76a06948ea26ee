import { type ResourceContext, waitUntil } from "@k3sinfra/core";
import { gcpCall } from "../call.js";
import type { GcpClients } from "../clients.js";
import { httpStatusOf } from "../errors.js";
import { computeOp, insertVerified, requestId } from "../operations.js";

/** The last segment of a resource URL: its name. */
export const last = (url: string | null | undefined): string => (url ?? "").split("/").pop() ?? "";

/** `https://…/compute/v1/projects/p/…` (or a relative path) → `projects/p/…`. */
export const pathOf = (url: string | null | undefined): string =>
  (url ?? "").replace(/^https?:\/\/[^/]+\/compute\/v1\//, "");

/** A compute `get` that answers `undefined` for 404. */
export async function getOrUndefined<T>(
  what: string,
  ctx: ResourceContext,
  get: () => Promise<[T, ...unknown[]]>,
): Promise<T | undefined> {
  try {
    return (await gcpCall(what, ctx, get))[0];
  } catch (error) {
    if (httpStatusOf(error) === 404) return undefined;
    throw error;
  }
}

/**
 * Inserts a compute resource unless it exists: its request id is stable for the step (retries and a crashed
 * run replay it), a 409 adopts, and the result is read back.
 */
export async function ensureInserted<T>(
  clients: GcpClients,
  ctx: ResourceContext,
  what: string,
  step: string,
  get: () => Promise<[T, ...unknown[]]>,
  insert: (requestId: string) => Promise<unknown>,
): Promise<T> {
  let found = await getOrUndefined(what, ctx, get);
  if (found) return found;
  await insertVerified(
    (attempt) =>
      computeOp(clients, what, ctx, () => insert(requestId(ctx.idempotencyToken, `${step}#${attempt}`))),
    async () => {
      found = await getOrUndefined(what, ctx, get);
      return found !== undefined;
    },
    what,
  );
  return found as T;
}

/**
 * Deletes a compute resource and waits for its operation; a missing one is fine, and one still in use by
 * another (400 resourceInUseByAnotherResource while that one is deleted) is retried until it is free.
 */
export async function ensureDeleted(
  clients: GcpClients,
  ctx: ResourceContext,
  what: string,
  del: () => Promise<unknown>,
): Promise<void> {
  await waitUntil(
    async () => {
      try {
        await computeOp(clients, what, ctx, del);
        return { state: "SUCCESS", value: undefined };
      } catch (error) {
        if (httpStatusOf(error) === 404) return { state: "SUCCESS", value: undefined };
        if ((error as { code?: string }).code === "DependencyViolation")
          return { state: "RETRY", reason: `${what}: still in use` };
        throw error;
      }
    },
    { ...ctx.poll, signal: ctx.signal, maxWaitMs: 20 * 60_000, description: what },
  );
}

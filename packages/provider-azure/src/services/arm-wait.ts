import { type ResourceContext, waitUntil } from "@k3sinfra/core";

/** The provisioning state of an ARM resource (network, compute: `properties.provisioningState`, flattened). */
interface Provisioned {
  readonly provisioningState?: string | undefined;
}

/**
 * Waits until the resource's provisioningState is Succeeded (absent counts as Succeeded, as ARM says);
 * Failed or Canceled end the wait. https://github.com/Azure/azure-resource-manager-rpc/blob/master/v1.0/async-api-reference.md
 */
export function waitSucceeded<T extends object>(
  description: string,
  get: () => Promise<T | undefined>,
  ctx: ResourceContext,
  maxWaitMs: number,
  state: (r: T) => string | undefined = (r) => (r as Provisioned).provisioningState,
): Promise<T> {
  return waitUntil(
    async () => {
      const r = await get();
      if (!r) return { state: "RETRY", reason: "not visible yet" };
      const s = state(r) ?? "Succeeded";
      if (/^(Succeeded|Ready)$/i.test(s)) return { state: "SUCCESS", value: r };
      if (/^(Failed|Canceled)$/i.test(s)) return { state: "FAILURE", reason: `provisioningState ${s}` };
      return { state: "RETRY", reason: s };
    },
    {
      ...ctx.poll,
      signal: ctx.signal,
      maxWaitMs,
      description,
      onRetry: (_n, why) => ctx.report(`${description}: ${why ?? "waiting"}`),
    },
  );
}

/** Waits until `get` finds nothing (a 404). */
export function waitGone(
  description: string,
  get: () => Promise<unknown>,
  ctx: ResourceContext,
  maxWaitMs: number,
): Promise<void> {
  return waitUntil(
    async () =>
      (await get()) === undefined
        ? { state: "SUCCESS", value: undefined }
        : { state: "RETRY", reason: "still deleting" },
    { ...ctx.poll, signal: ctx.signal, maxWaitMs, description },
  );
}

/**
 * Sends a delete until ARM stops refusing it as in use (`DependencyViolation`): what holds the resource (NICs
 * after their VMs, the MySQL server in its subnet) leaves asynchronously, so "in use" is waited out.
 */
export function deleteWhenFree(
  description: string,
  send: () => Promise<unknown>,
  ctx: ResourceContext,
  maxWaitMs: number,
): Promise<void> {
  return waitUntil(
    async () => {
      try {
        await send();
        return { state: "SUCCESS", value: undefined };
      } catch (error) {
        if ((error as { code?: string }).code === "DependencyViolation")
          return { state: "RETRY", reason: (error as Error).message };
        throw error;
      }
    },
    { ...ctx.poll, signal: ctx.signal, maxWaitMs, description: `${description} to be free to delete` },
  );
}

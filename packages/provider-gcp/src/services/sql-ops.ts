import { type ResourceContext, waitUntil } from "@k3sinfra/core";
import { gcpCall, ONE_ATTEMPT } from "../call.js";
import type { GcpClients } from "../clients.js";
import { mapGoogleError } from "../errors.js";

/** A Cloud SQL operation as the client decodes it (the fields read here). */
interface SqlOp {
  name?: string | null;
  status?: string | number | null;
  error?: { errors?: { code?: string | null; message?: string | null }[] | null } | null;
}

const DONE = (s: SqlOp["status"]) => s === "DONE" || s === 3;

/**
 * Runs one Cloud SQL mutation and waits for its operation (v1 has no `wait`: poll `operations.get`), then
 * checks its `error`. Mutations on one instance must not overlap: the API refuses a second one with 409
 * `operationInProgress` (hashicorp/terraform-provider-google#4370), which maps to a dependency error and is
 * waited out here before the call is made again.
 * @param secrets values never to appear in an error (the password a users.insert carries).
 */
export async function sqlOp(
  clients: GcpClients,
  what: string,
  ctx: ResourceContext,
  start: () => Promise<unknown>,
  secrets: readonly string[] = [],
): Promise<void> {
  const first = await waitUntil<SqlOp>(
    async () => {
      try {
        const [op] = (await gcpCall(what, ctx, start, secrets)) as [SqlOp];
        return { state: "SUCCESS", value: op };
      } catch (error) {
        if ((error as { code?: string }).code === "DependencyViolation")
          return { state: "RETRY", reason: "another operation on the instance is in progress" };
        throw error;
      }
    },
    { ...ctx.poll, signal: ctx.signal, maxWaitMs: 30 * 60_000, description: `${what} to be accepted` },
  );
  const project = await clients.project();
  const ops = await clients.sql("SqlOperationsServiceClient");
  const done = DONE(first.status)
    ? first
    : await waitUntil<SqlOp>(
        async () => {
          const [op] = (await gcpCall(`${what}: operation ${first.name}`, ctx, () =>
            ops.get({ project, operation: first.name ?? "" }, ONE_ATTEMPT),
          )) as unknown as [SqlOp];
          return DONE(op.status)
            ? { state: "SUCCESS", value: op }
            : { state: "RETRY", reason: `operation ${first.name} is ${op.status}` };
        },
        { ...ctx.poll, signal: ctx.signal, maxWaitMs: 60 * 60_000, description: `${what} to finish` },
      );
  const errors = done.error?.errors ?? [];
  if (errors.length > 0)
    throw mapGoogleError(
      Object.assign(new Error(errors.map((e) => `${e.code}: ${e.message}`).join("; ")), {
        reason: errors[0]?.code ?? undefined,
      }),
      what,
      secrets,
    );
}

import type { DBInstance, RDS } from "@aws-sdk/client-rds";
import { type ResourceContext, waitUntil } from "@k3sinfra/core";
import { awsCall } from "../call.js";
import { hasAwsCode } from "../errors.js";

// Statuses from which an instance never becomes available by waiting.
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html#Overview.DBInstance.Status
const FAILED = [
  "failed",
  "incompatible-restore",
  "incompatible-parameters",
  "incompatible-network",
  "incompatible-option-group",
  "inaccessible-encryption-credentials",
  "inaccessible-encryption-credentials-recoverable",
  "insufficient-capacity",
  "restore-error",
  "storage-full",
  "deleting",
  "deleted",
];
/** RDS needs hours at worst (Multi-AZ, large storage); the orchestrator's signal is the real bound. */
export const RDS_WAIT_MS = 4 * 60 * 60_000;

/** The instance, or `undefined` when it does not exist. */
export async function describeInstance(
  rds: RDS,
  name: string,
  ctx: ResourceContext,
): Promise<DBInstance | undefined> {
  try {
    const out = await awsCall(`RDS DescribeDBInstances (${name})`, ctx, (o) =>
      rds.describeDBInstances({ DBInstanceIdentifier: name }, o),
    );
    return out.DBInstances?.[0];
  } catch (error) {
    if (hasAwsCode(error, "DBInstanceNotFoundFault", "DBInstanceNotFound")) return undefined;
    throw error;
  }
}

export function waitAvailable(
  rds: RDS,
  name: string,
  ctx: ResourceContext,
  settled: (db: DBInstance) => boolean,
): Promise<DBInstance> {
  return waitUntil(
    async () => {
      const db = await describeInstance(rds, name, ctx);
      const status = db?.DBInstanceStatus;
      if (!db) return { state: "RETRY", reason: "instance not visible yet" };
      if (status && FAILED.includes(status))
        return { state: "FAILURE", reason: `RDS instance ${name} is ${status}` };
      if (status === "available" && db.Endpoint?.Address && settled(db))
        return { state: "SUCCESS", value: db };
      return { state: "RETRY", reason: `RDS instance is ${status}` };
    },
    {
      description: `RDS instance ${name} to be available`,
      maxWaitMs: RDS_WAIT_MS,
      signal: ctx.signal,
      ...ctx.poll,
      onRetry: (n, reason) => {
        if (n % 10 === 1) ctx.report(`waiting: ${reason}`);
      },
    },
  );
}

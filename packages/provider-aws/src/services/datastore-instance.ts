import type { DBInstance, RDS } from "@aws-sdk/client-rds";
import { type DatastoreSpec, InvalidConfigError, type ResourceContext, waitUntil } from "@k3sinfra/core";
import { awsCall } from "../call.js";
import { hasAwsCode } from "../errors.js";
import { tagList } from "../tags.js";
import type { AwsDatastoreState } from "./datastore.js";
import {
  ensureParameterGroup,
  groupOf,
  parameterFamily,
  parameterGroupName,
  secureTransportOn,
} from "./datastore-params.js";
import { RDS_WAIT_MS, waitAvailable } from "./datastore-wait.js";

// What surrounds an RDS instance (its DB subnet group and DB parameter group) and its state (datastore.ts).

export async function ensureSubnetGroup(rds: RDS, spec: DatastoreSpec, ctx: ResourceContext): Promise<void> {
  const subnetIds = spec.network.subnets.map((s) => s.id);
  if (new Set(spec.network.subnets.map((s) => s.zone)).size < 2)
    throw new InvalidConfigError([
      {
        path: "zones",
        message: "RDS needs subnets in at least 2 zones for its DB subnet group; list 2 zones",
      },
    ]);
  try {
    await awsCall(`RDS CreateDBSubnetGroup (${ctx.name})`, ctx, (o) =>
      rds.createDBSubnetGroup(
        {
          DBSubnetGroupName: ctx.name,
          DBSubnetGroupDescription: `k3sinfra ${ctx.cluster}: datastore subnets`,
          SubnetIds: subnetIds,
          Tags: tagList(ctx.tags, { Name: ctx.name }),
        },
        o,
      ),
    );
  } catch (error) {
    if (!hasAwsCode(error, "DBSubnetGroupAlreadyExistsFault", "DBSubnetGroupAlreadyExists")) throw error;
    const out = await awsCall(`RDS DescribeDBSubnetGroups (${ctx.name})`, ctx, (o) =>
      rds.describeDBSubnetGroups({ DBSubnetGroupName: ctx.name }, o),
    );
    const group = out.DBSubnetGroups?.[0];
    const have = new Set((group?.Subnets ?? []).map((s) => s.SubnetIdentifier));
    if (group && (have.size !== subnetIds.length || subnetIds.some((id) => !have.has(id)))) {
      ctx.report(`updating the subnets of DB subnet group ${ctx.name}`);
      await awsCall(`RDS ModifyDBSubnetGroup (${ctx.name})`, ctx, (o) =>
        rds.modifyDBSubnetGroup({ DBSubnetGroupName: ctx.name, SubnetIds: subnetIds }, o),
      );
    }
  }
}

/**
 * Puts the instance on its parameter group with `require_secure_transport` on: ensures the group (unless
 * `groupReady`: this call just made it), moves the instance onto it, and reboots it when RDS reports the
 * group `pending-reboot` — parameters of a newly associated group apply only after a reboot, even dynamic
 * ones ("The parameter group name itself is changed immediately, but the actual parameter changes are not
 * applied until you reboot the instance without failover",
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html). The reboot restarts
 * MySQL (about a minute; K3s reconnects); it happens only to repair an instance found on another group.
 */
export async function applyParameterGroup(
  rds: RDS,
  db: DBInstance,
  ctx: ResourceContext,
  opts: { groupReady: boolean },
): Promise<AwsDatastoreState> {
  const id = db.DBInstanceIdentifier!;
  // The running version's family: a group of another family cannot be associated.
  const family = parameterFamily(db.EngineVersion ?? "");
  const group = parameterGroupName(id, family);
  if (!opts.groupReady) await ensureParameterGroup(rds, group, family, ctx);
  let live = db;
  if (groupOf(live).name !== group) {
    ctx.report(`moving RDS instance ${id} to DB parameter group ${group}`);
    await awsCall(`RDS ModifyDBInstance (${id})`, ctx, (o) =>
      rds.modifyDBInstance(
        { DBInstanceIdentifier: id, DBParameterGroupName: group, ApplyImmediately: true },
        o,
      ),
    );
    live = await waitAvailable(rds, id, ctx, (d) => groupOf(d).name === group);
  }
  if (groupOf(live).status === "pending-reboot") {
    ctx.report(`rebooting RDS instance ${id} to apply DB parameter group ${group}`);
    await waitUntil(
      async () => {
        try {
          await awsCall(`RDS RebootDBInstance (${id})`, ctx, (o) =>
            rds.rebootDBInstance({ DBInstanceIdentifier: id }, o),
          );
          return { state: "SUCCESS", value: undefined };
        } catch (error) {
          if (hasAwsCode(error, "InvalidDBInstanceStateFault", "InvalidDBInstanceState"))
            return { state: "RETRY", reason: "instance is busy" };
          throw error;
        }
      },
      {
        description: `RDS instance ${id} to accept a reboot`,
        maxWaitMs: RDS_WAIT_MS,
        signal: ctx.signal,
        ...ctx.poll,
      },
    );
    live = await waitAvailable(
      rds,
      id,
      ctx,
      (d) => groupOf(d).name === group && groupOf(d).status === "in-sync",
    );
  }
  return withParameters(rds, live, ctx);
}

/** The state of an instance, with its parameter group and whether TLS is required there now. */
export async function withParameters(
  rds: RDS,
  db: DBInstance,
  ctx: ResourceContext,
): Promise<AwsDatastoreState> {
  const { name, status } = groupOf(db);
  const on = name ? await secureTransportOn(rds, name, ctx) : false;
  return { ...toState(db), secureTransport: on === true && status !== "pending-reboot" };
}

export const toState = (db: DBInstance): AwsDatastoreState => ({
  id: db.DBInstanceArn ?? db.DBInstanceIdentifier!,
  name: db.DBInstanceIdentifier!,
  host: db.Endpoint?.Address ?? "",
  port: db.Endpoint?.Port ?? 3306,
  engineVersion: db.EngineVersion ?? "",
  status: db.DBInstanceStatus ?? "unknown",
  deletionProtection: db.DeletionProtection ?? false,
  parameterGroup: groupOf(db).name,
  // The server does refuse plaintext now (our parameter group, `secureTransport`), but core reads
  // `tls.required` as "connect over TLS, verifying with `caBundle` or the system CAs": without the RDS CA
  // bundle here, its readiness check would fail certificate verification. K3s itself always gets the RDS CA
  // (the provider's `datastoreCaUrl`), whatever this says.
  tls: { required: false },
});

import type { DBSubnetGroup, RDS } from "@aws-sdk/client-rds";
import { type DatastoreState, type ResourceContext, type Tags, waitUntil } from "@k3sinfra/core";
import { awsCall, collectPages } from "../call.js";
import { hasAwsCode } from "../errors.js";
import { assertOwned } from "../ownership.js";
import { hasTags, tagRecord } from "../tags.js";

const GROUP_NOT_FOUND = ["DBSubnetGroupNotFoundFault", "DBSubnetGroupNotFound"];

/** Status of a state standing for a DB subnet group without its instance. */
export const ORPHANED = "orphaned";

/**
 * The tags of an RDS resource by ARN (RDS lists return none for groups), or `undefined` when it no longer
 * exists (`notFound`: the codes RDS answers for that kind).
 */
export async function rdsTags(
  rds: RDS,
  arn: string,
  notFound: readonly string[],
  ctx: ResourceContext,
): Promise<Record<string, string> | undefined> {
  try {
    const out = await awsCall(`RDS ListTagsForResource (${arn})`, ctx, (o) =>
      rds.listTagsForResource({ ResourceName: arn }, o),
    );
    return tagRecord(out.TagList);
  } catch (error) {
    if (hasAwsCode(error, ...notFound)) return undefined;
    throw error;
  }
}

/** A datastore state standing for a group the sweep found without its instance (its ARN as id). */
export const orphanedState = (arn: string, name: string): DatastoreState => ({
  id: arn,
  name,
  host: "",
  port: 3306,
  engineVersion: "",
  status: ORPHANED,
  deletionProtection: false,
  tls: { required: false },
});

/**
 * Tagged DB subnet groups, as datastore states (status `orphaned`): what a failed CreateDBInstance leaves
 * behind. RDS filters neither DescribeDBSubnetGroups nor its tags on the server ("Filters: This parameter
 * isn't currently supported", https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBSubnetGroups.html),
 * and DBSubnetGroup carries no TagList: list, then ListTagsForResource each; one deleted in between is gone.
 */
export async function findSubnetGroups(
  rds: RDS,
  tags: Tags,
  ctx: ResourceContext,
): Promise<DatastoreState[]> {
  const groups = await collectPages(
    (Marker) => awsCall("RDS DescribeDBSubnetGroups", ctx, (o) => rds.describeDBSubnetGroups({ Marker }, o)),
    (p) => p.DBSubnetGroups,
    (p) => p.Marker,
  );
  const found: DBSubnetGroup[] = [];
  for (const g of groups) {
    if (!g.DBSubnetGroupArn || g.DBSubnetGroupName === "default") continue;
    const t = await rdsTags(rds, g.DBSubnetGroupArn, GROUP_NOT_FOUND, ctx);
    if (t && hasTags(t, tags)) found.push(g);
  }
  return found.map((g) => orphanedState(g.DBSubnetGroupArn!, g.DBSubnetGroupName!));
}

/** Deletes the DB subnet group of this name once no instance uses it, after checking whose it is. */
export async function deleteSubnetGroup(rds: RDS, name: string, ctx: ResourceContext): Promise<void> {
  let arn: string | undefined;
  try {
    const out = await awsCall(`RDS DescribeDBSubnetGroups (${name})`, ctx, (o) =>
      rds.describeDBSubnetGroups({ DBSubnetGroupName: name }, o),
    );
    arn = out.DBSubnetGroups?.[0]?.DBSubnetGroupArn;
  } catch (error) {
    if (hasAwsCode(error, ...GROUP_NOT_FOUND)) return;
    throw error;
  }
  if (arn) {
    const t = await rdsTags(rds, arn, GROUP_NOT_FOUND, ctx);
    if (!t) return;
    assertOwned(t, ctx, `DB subnet group ${name}`);
  }
  await waitUntil(
    async () => {
      try {
        await awsCall(`RDS DeleteDBSubnetGroup (${name})`, ctx, (o) =>
          rds.deleteDBSubnetGroup({ DBSubnetGroupName: name }, o),
        );
        return { state: "SUCCESS", value: undefined };
      } catch (error) {
        if (hasAwsCode(error, ...GROUP_NOT_FOUND)) return { state: "SUCCESS", value: undefined };
        if (hasAwsCode(error, "InvalidDBSubnetGroupStateFault", "InvalidDBSubnetGroupState"))
          return { state: "RETRY", reason: "subnet group still in use" };
        throw error;
      }
    },
    {
      description: `DB subnet group ${name} to be deleted`,
      maxWaitMs: 30 * 60_000,
      signal: ctx.signal,
      ...ctx.poll,
    },
  );
}

import type { DBInstance, RDS } from "@aws-sdk/client-rds";
import {
  type DatastoreState,
  ProviderError,
  type ResourceContext,
  type Tags,
  waitUntil,
} from "@k3sinfra/core";
import { awsCall, collectPages } from "../call.js";
import { hasAwsCode } from "../errors.js";
import { assertOwned } from "../ownership.js";
import { hasTags, tagList } from "../tags.js";
import { orphanedState, rdsTags } from "./datastore-sweep.js";

/** The tags of a parameter group by ARN, or `undefined` when it no longer exists. */
const rdsTagsOf = (rds: RDS, arn: string, ctx: ResourceContext) => rdsTags(rds, arn, NOT_FOUND, ctx);

/**
 * The datastore's DB parameter group: RDS's default group leaves `require_secure_transport` off, so a client
 * may connect without TLS. Ours turns it on, so RDS refuses unencrypted connections (MySQL error 3159)
 * rather than merely not using them.
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mysql-ssl-connections.require-ssl.html
 */
export const SECURE_TRANSPORT = "require_secure_transport";
/**
 * The parameter is a dynamic boolean on RDS for MySQL 8.0 and 8.4 (DescribeDBParameters: `DataType`
 * boolean, `AllowedValues` 0,1, `ApplyType` dynamic): `1` with `ApplyMethod: immediate` applies without a
 * reboot. A value read back as `ON` (set by hand) counts as on too.
 */
const ON = "1";
const isOn = (v: string | undefined) => v === "1" || v?.toUpperCase() === "ON";

/** The families this provider creates groups for: one per MySQL major version it offers. */
export const FAMILIES = ["mysql8.0", "mysql8.4"] as const;

const NOT_FOUND = ["DBParameterGroupNotFoundFault", "DBParameterGroupNotFound"];
const IN_USE = ["InvalidDBParameterGroupStateFault", "InvalidDBParameterGroupState"];

/**
 * `8.4`, `8.4.6` → `mysql8.4`: the parameter group family of a MySQL version (`DBParameterGroupFamily` in
 * DescribeDBEngineVersions, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/parameter-groups-overview.html).
 */
export function parameterFamily(version: string): string {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m)
    throw new ProviderError(`Cannot tell the RDS parameter group family of MySQL version '${version}'.`);
  return `mysql${m[1]}.${m[2]}`;
}

/**
 * `<datastore>-params-mysql8-4`. A group belongs to one family for life, so the family is in the name: after
 * a major version change the new group never collides with the old one. Valid as a group name (1-255
 * letters, digits, hyphens; first a letter; no trailing or double hyphen) whenever the datastore name is a
 * valid DB identifier. https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBParameterGroup.html
 */
export const parameterGroupName = (datastore: string, family: string): string =>
  `${datastore}-params-${family.replace(/\./g, "-")}`;

/** The group an instance is on and its apply status (`in-sync`, `applying`, `pending-reboot`). */
export const groupOf = (db: DBInstance): { name?: string; status?: string } => {
  const g = db.DBParameterGroups?.[0];
  return { name: g?.DBParameterGroupName, status: g?.ParameterApplyStatus };
};

async function describeGroup(rds: RDS, name: string, ctx: ResourceContext) {
  try {
    const out = await awsCall(`RDS DescribeDBParameterGroups (${name})`, ctx, (o) =>
      rds.describeDBParameterGroups({ DBParameterGroupName: name }, o),
    );
    return out.DBParameterGroups?.[0];
  } catch (error) {
    if (hasAwsCode(error, ...NOT_FOUND)) return undefined;
    throw error;
  }
}

/**
 * Whether `require_secure_transport` is on in a group (user-set values only: the engine default is off);
 * `undefined` when the group does not exist.
 */
export async function secureTransportOn(
  rds: RDS,
  group: string,
  ctx: ResourceContext,
): Promise<boolean | undefined> {
  try {
    const params = await collectPages(
      (Marker) =>
        awsCall(`RDS DescribeDBParameters (${group})`, ctx, (o) =>
          rds.describeDBParameters({ DBParameterGroupName: group, Source: "user", Marker }, o),
        ),
      (p) => p.Parameters,
      (p) => p.Marker,
    );
    return isOn(params.find((p) => p.ParameterName === SECURE_TRANSPORT)?.ParameterValue);
  } catch (error) {
    if (hasAwsCode(error, ...NOT_FOUND)) return undefined;
    throw error;
  }
}

/**
 * Creates the group (tagged), or adopts the one an earlier run made (a crash right after
 * CreateDBParameterGroup) once its family and owner check out, then turns `require_secure_transport` on
 * when it is not (a new group, or one changed by hand).
 */
export async function ensureParameterGroup(
  rds: RDS,
  name: string,
  family: string,
  ctx: ResourceContext,
): Promise<void> {
  try {
    await awsCall(`RDS CreateDBParameterGroup (${name})`, ctx, (o) =>
      rds.createDBParameterGroup(
        {
          DBParameterGroupName: name,
          DBParameterGroupFamily: family,
          Description: `k3sinfra ${ctx.cluster}: datastore parameters (TLS required)`,
          Tags: tagList(ctx.tags, { Name: name }),
        },
        o,
      ),
    );
  } catch (error) {
    if (!hasAwsCode(error, "DBParameterGroupAlreadyExistsFault", "DBParameterGroupAlreadyExists"))
      throw error;
    const group = await describeGroup(rds, name, ctx);
    if (!group?.DBParameterGroupArn) throw error;
    const tags = await rdsTagsOf(rds, group.DBParameterGroupArn, ctx);
    if (!tags) throw error;
    assertOwned(tags, ctx, `DB parameter group ${name}`);
    if (!hasTags(tags, ctx.tags))
      throw new ProviderError(
        `DB parameter group ${name} exists but is not tagged as this cluster's; rename the cluster or delete the group.`,
        { cause: error },
      );
    if (group.DBParameterGroupFamily !== family)
      throw new ProviderError(
        `DB parameter group ${name} is of family ${group.DBParameterGroupFamily}, not ${family}; delete it and run again.`,
        { cause: error },
      );
    ctx.report(`adopting DB parameter group ${name}`);
  }
  if ((await secureTransportOn(rds, name, ctx)) === true) return;
  ctx.report(`setting ${SECURE_TRANSPORT}=${ON} in DB parameter group ${name}`);
  await awsCall(`RDS ModifyDBParameterGroup (${name})`, ctx, (o) =>
    rds.modifyDBParameterGroup(
      {
        DBParameterGroupName: name,
        Parameters: [{ ParameterName: SECURE_TRANSPORT, ParameterValue: ON, ApplyMethod: "immediate" }],
      },
      o,
    ),
  );
}

/** Deletes a group once no instance uses it, after checking whose it is; a group already gone is done. */
export async function deleteParameterGroup(rds: RDS, name: string, ctx: ResourceContext): Promise<void> {
  const group = await describeGroup(rds, name, ctx);
  if (!group) return;
  if (group.DBParameterGroupArn) {
    const tags = await rdsTagsOf(rds, group.DBParameterGroupArn, ctx);
    if (!tags) return;
    assertOwned(tags, ctx, `DB parameter group ${name}`);
  }
  await waitUntil(
    async () => {
      try {
        await awsCall(`RDS DeleteDBParameterGroup (${name})`, ctx, (o) =>
          rds.deleteDBParameterGroup({ DBParameterGroupName: name }, o),
        );
        return { state: "SUCCESS", value: undefined };
      } catch (error) {
        if (hasAwsCode(error, ...NOT_FOUND)) return { state: "SUCCESS", value: undefined };
        // An instance still deleting is still a member; RDS also refuses for a short while after it is gone.
        // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBParameterGroup.html
        if (hasAwsCode(error, ...IN_USE)) return { state: "RETRY", reason: "parameter group still in use" };
        throw error;
      }
    },
    {
      description: `DB parameter group ${name} to be deleted`,
      maxWaitMs: 30 * 60_000,
      signal: ctx.signal,
      ...ctx.poll,
    },
  );
}

/** Deletes every group this datastore may have made, one per family (a major version change leaves two). */
export async function deleteParameterGroupsOf(
  rds: RDS,
  datastore: string,
  ctx: ResourceContext,
): Promise<void> {
  for (const family of FAMILIES) await deleteParameterGroup(rds, parameterGroupName(datastore, family), ctx);
}

/** Whether a state stands for a parameter group found alone by the sweep (its id is the group's ARN). */
export const isParameterGroupState = (state: DatastoreState): boolean =>
  /^arn:[^:]+:rds:.*:pg:/.test(state.id);

/**
 * Tagged DB parameter groups, as datastore states with status `orphaned` (the group's ARN as id), except
 * those named for an instance in `instances` (that instance's delete removes them). Like DB subnet groups,
 * RDS neither filters groups by tag nor returns their tags: list, skip the default groups, then
 * ListTagsForResource each; one deleted in between is gone, not an error.
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBParameterGroups.html
 */
export async function findParameterGroups(
  rds: RDS,
  tags: Tags,
  instances: readonly string[],
  ctx: ResourceContext,
): Promise<DatastoreState[]> {
  const groups = await collectPages(
    (Marker) =>
      awsCall("RDS DescribeDBParameterGroups", ctx, (o) => rds.describeDBParameterGroups({ Marker }, o)),
    (p) => p.DBParameterGroups,
    (p) => p.Marker,
  );
  const owned = new Set(instances.flatMap((i) => FAMILIES.map((f) => parameterGroupName(i, f))));
  const found: DatastoreState[] = [];
  for (const g of groups) {
    const name = g.DBParameterGroupName;
    if (!name || !g.DBParameterGroupArn || name.startsWith("default.") || owned.has(name)) continue;
    const t = await rdsTagsOf(rds, g.DBParameterGroupArn, ctx);
    if (!t || !hasTags(t, tags)) continue;
    found.push(orphanedState(g.DBParameterGroupArn, name));
  }
  return found;
}

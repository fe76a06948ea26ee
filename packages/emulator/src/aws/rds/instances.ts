/**
 * Amazon RDS DB instances: create (create.ts), describe, modify (modify.ts), delete; engine versions; tags.
 */
import { xlist } from "../../xml.js";
import type { QueryOp } from "../kernel/call.js";
import { AwsError } from "../kernel/errors.js";
import { bool, objList, str, strList } from "../kernel/query.js";
import { tagsOf } from "./checks.js";
import { create } from "./create.js";
import {
  checkDbIdentifier,
  checkRdsTags,
  type DbInstance,
  DEFAULT_VERSION,
  ENGINE_VERSIONS,
  readTags,
} from "./model.js";
import { modify } from "./modify.js";
import type { RdsService } from "./service.js";

export const instanceOps = (svc: RdsService): Record<string, QueryOp> => ({
  CreateDBInstance: (input, call) => create(svc, input, call),

  DescribeDBInstances: (input, call) => {
    const id = str(input, "DBInstanceIdentifier");
    let dbs = svc.live(call.region, call.now);
    if (id) dbs = [svc.get(call.region, id, call.now)];
    for (const f of objList(input, "Filters.Filter")) {
      const fname = str(f, "Name") ?? "";
      const values = strList(f, "Values.Value");
      const field: Record<string, (d: DbInstance) => string[]> = {
        "db-instance-id": (d) => [d.id, svc.arn(call.region, "db", d.id)],
        engine: (d) => [d.engine],
        "dbi-resource-id": (d) => [d.resourceId],
        "db-cluster-id": () => [],
        domain: () => [],
      };
      const fn = field[fname];
      // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html (supported filters)
      if (!fn) throw new AwsError("InvalidParameterValue", `Unrecognized filter name: ${fname}`);
      dbs = dbs.filter((d) => fn(d).some((v) => values.includes(v)));
    }
    const { page, marker } = svc.page(dbs, input);
    return {
      DBInstances: xlist(
        "DBInstance",
        page.map((d) => svc.instanceOut(call.region, d, call.now)),
      ),
      Marker: marker,
    };
  },

  ModifyDBInstance: (input, call) => modify(svc, input, call),

  DeleteDBInstance: async (input, call) => {
    const db = svc.get(call.region, str(input, "DBInstanceIdentifier")!, call.now);
    const status = svc.status(db, call.now);
    if (status === "deleting")
      throw new AwsError("InvalidDBInstanceState", `Instance ${db.id} is already being deleted.`);
    // Deletion protection (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html#USER_DeletionProtection);
    // message as reported in hashicorp/terraform-provider-aws#26233.
    if (db.deletionProtection) {
      throw new AwsError(
        "InvalidParameterCombination",
        "Cannot delete protected DB Instance, please disable deletion protection and try again.",
      );
    }
    const skip = bool(input, "SkipFinalSnapshot") ?? false;
    const finalId = str(input, "FinalDBSnapshotIdentifier");
    // SkipFinalSnapshot=false requires FinalDBSnapshotIdentifier; both together are invalid
    // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html).
    if (!skip && !finalId) {
      throw new AwsError(
        "InvalidParameterCombination",
        "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.",
      );
    }
    if (skip && finalId) {
      throw new AwsError(
        "InvalidParameterCombination",
        "FinalDBSnapshotIdentifier cannot be specified when SkipFinalSnapshot is enabled.",
      );
    }
    if (!skip && status === "creating") {
      throw new AwsError(
        "InvalidDBInstanceState",
        `Instance ${db.id} is currently creating - a final snapshot cannot be taken.`,
      );
    }
    if (finalId) checkDbIdentifier(finalId);
    db.deletingSince = call.now;
    db.finalSnapshotId = finalId;
    if (svc.backing) await svc.backing.closeProxy(`${call.region}/${db.id}`);
    return { DBInstance: svc.instanceOut(call.region, db, call.now) };
  },

  DescribeDBEngineVersions: (input) => {
    const engine = str(input, "Engine");
    const version = str(input, "EngineVersion");
    const defaultOnly = bool(input, "DefaultOnly") ?? false;
    const rows: object[] = [];
    for (const eng of Object.keys(ENGINE_VERSIONS)) {
      if (engine && engine !== eng) continue;
      for (const v of svc.engineVersions(eng)) {
        if (version && v !== version && !v.startsWith(`${version}.`)) continue;
        if (defaultOnly && v !== DEFAULT_VERSION[eng]) continue;
        const major = v.split(".").slice(0, 2).join(".");
        rows.push({
          Engine: eng,
          EngineVersion: v,
          DBParameterGroupFamily: `${eng}${major}`,
          DBEngineDescription: eng === "mysql" ? "MySQL Community Edition" : "MariaDb Community Edition",
          DBEngineVersionDescription: `${eng === "mysql" ? "MySQL" : "MariaDB"} ${v}`,
          Status: "available",
          SupportsReadReplica: true,
          MajorEngineVersion: major,
        });
      }
    }
    return { DBEngineVersions: xlist("DBEngineVersion", rows) };
  },

  ListTagsForResource: (input, call) => {
    const tags = tagsOf(svc, call, str(input, "ResourceName")!);
    return {
      TagList: xlist(
        "Tag",
        Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      ),
    };
  },

  AddTagsToResource: (input, call) => {
    const tags = tagsOf(svc, call, str(input, "ResourceName")!);
    const add = readTags(input);
    checkRdsTags({ ...tags, ...add });
    Object.assign(tags, add);
    return undefined;
  },

  RemoveTagsFromResource: (input, call) => {
    const tags = tagsOf(svc, call, str(input, "ResourceName")!);
    for (const k of strList(input, "TagKeys.member")) delete tags[k];
    return undefined;
  },
});

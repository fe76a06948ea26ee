/**
 * RDS DB parameter groups (awsQuery, API 2014-10-31): Create/Describe/Modify/DeleteDBParameterGroup,
 * DescribeDBParameters, RebootDBInstance, and what DB instances see of them (`DBParameterGroups` with
 * `ParameterApplyStatus`). service.ts owns instances and delegates here.
 * Guide: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.html
 */
import type { InventoryItem } from "../../types.js";
import { xlist } from "../../xml.js";
import type { Call, QueryOp } from "../kernel/call.js";
import { ACCOUNT_ID, type Tags } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { objList, str } from "../kernel/query.js";
import {
  checkName,
  type DbParameterGroup,
  FAMILIES,
  familyOf,
  isDefault,
  notFound,
  PARAMETERS,
  type ParameterGroupHost,
  type ParameterGroupMember,
  REBOOT_SECONDS,
} from "./parameter-group-model.js";

export type { DbParameterGroup, ParameterGroupHost, ParameterGroupMember } from "./parameter-group-model.js";

export class RdsParameterGroups {
  constructor(private readonly host: ParameterGroupHost) {}

  arn(region: string, name: string): string {
    return `arn:aws:rds:${region}:${ACCOUNT_ID}:pg:${name}`;
  }

  /** A custom group or a family's default group (`default.mysql8.4`), or undefined. */
  private find(region: string, name: string): DbParameterGroup | undefined {
    const key = name.toLowerCase();
    const custom = this.host.groups(region)[key];
    if (custom) return custom;
    const family = key.slice("default.".length);
    if (isDefault(key) && (FAMILIES as readonly string[]).includes(family))
      return {
        name: key,
        family,
        description: `Default parameter group for ${family}`,
        tags: {},
        values: {},
        createdAt: 0,
      };
    return undefined;
  }

  private resolve(region: string, name: string): DbParameterGroup {
    const g = this.find(region, name);
    if (!g) throw notFound(name);
    return g;
  }

  /** The group's tags, for ListTagsForResource / AddTagsToResource on a `pg:` ARN. */
  tags(region: string, name: string): Tags {
    return this.resolve(region, name).tags;
  }

  /**
   * The group an instance may use: it exists (DBParameterGroupNotFound) and its family is the engine
   * version's. Returns the stored (lower-case) name.
   */
  checkForInstance(region: string, name: string, engine: string, version: string): string {
    const g = this.resolve(region, name);
    const family = familyOf(engine, version);
    if (g.family !== family)
      throw new AwsError(
        "InvalidParameterCombination",
        `The parameter group ${g.name} with DBParameterGroupFamily ${g.family} can't be used for this instance. Use a parameter group with DBParameterGroupFamily ${family}.`,
      );
    return g.name;
  }

  /**
   * A ModifyDBInstance that changes `EngineVersion` across families must also name a group of the new
   * family when the instance is on a custom group (its default group follows the version by itself).
   * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.MySQL.Major.html
   */
  checkUpgrade(db: ParameterGroupMember, newVersion: string, newGroup: string | undefined): void {
    if (newGroup !== undefined || db.parameterGroup === undefined) return;
    const family = familyOf(db.engine, newVersion);
    if (family !== familyOf(db.engine, db.engineVersion))
      throw new AwsError(
        "InvalidParameterCombination",
        `The current DB parameter group ${db.parameterGroup} is for ${familyOf(db.engine, db.engineVersion)}; a major version upgrade to ${newVersion} needs a DB parameter group of family ${family}.`,
      );
  }

  /**
   * ModifyDBInstance `DBParameterGroupName`: the name changes at once whatever `ApplyImmediately` says, and
   * the parameters apply only after a reboot ("The parameter group name itself is changed immediately, but
   * the actual parameter changes are not applied until you reboot the instance without failover",
   * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html).
   */
  associate(region: string, db: ParameterGroupMember, name: string, version: string): void {
    const stored = this.checkForInstance(region, name, db.engine, version);
    const current = db.parameterGroup ?? `default.${familyOf(db.engine, db.engineVersion)}`;
    if (stored === current) return;
    db.parameterGroup = isDefault(stored) ? undefined : stored;
    db.parameterApplyStatus = "pending-reboot";
  }

  /** `DBParameterGroups` of DescribeDBInstances. */
  statusOut(db: ParameterGroupMember): object {
    return xlist("DBParameterGroup", [
      {
        DBParameterGroupName: db.parameterGroup ?? `default.${familyOf(db.engine, db.engineVersion)}`,
        ParameterApplyStatus: db.parameterApplyStatus ?? "in-sync",
      },
    ]);
  }

  /** The reboot phase of an available instance; clears a pending reboot once done. */
  rebootPhase(db: ParameterGroupMember, now: number, timeScale: number): "rebooting" | "available" {
    if (db.rebootingSince === undefined) return "available";
    if (now < db.rebootingSince + REBOOT_SECONDS * 1000 * timeScale) return "rebooting";
    db.rebootingSince = undefined;
    db.parameterApplyStatus = "in-sync";
    return "available";
  }

  inventory(region: string): InventoryItem[] {
    return Object.values(this.host.groups(region)).map((g) => ({
      cloud: "aws",
      service: "rds",
      region,
      type: "db-parameter-group",
      id: g.name,
      name: g.name,
      state: "available",
      tags: { ...g.tags },
    }));
  }

  private groupOut(region: string, g: DbParameterGroup) {
    return {
      DBParameterGroupName: g.name,
      DBParameterGroupFamily: g.family,
      Description: g.description,
      DBParameterGroupArn: this.arn(region, g.name),
    };
  }

  private members(region: string, name: string, now: number): ParameterGroupMember[] {
    return this.host.instances(region, now).filter((d) => d.parameterGroup === name);
  }

  readonly ops: Record<string, QueryOp> = {
    CreateDBParameterGroup: (input, call) => {
      const name = str(input, "DBParameterGroupName")!;
      checkName(name);
      const key = name.toLowerCase();
      const family = str(input, "DBParameterGroupFamily")!;
      if (!(FAMILIES as readonly string[]).includes(family))
        throw new AwsError(
          "InvalidParameterValue",
          `ParameterGroupFamily ${family} is not a valid parameter group family. Valid families: ${FAMILIES.join(", ")}.`,
        );
      const groups = this.host.groups(call.region);
      if (groups[key])
        throw new AwsError("DBParameterGroupAlreadyExists", `Parameter group ${key} already exists`);
      // Default quota: 50 DB parameter groups per Region
      // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html).
      if (Object.keys(groups).length >= 50)
        throw new AwsError(
          "DBParameterGroupQuotaExceeded",
          "The request cannot be processed because it would exceed the maximum number of DBParameterGroups.",
        );
      const tags = this.host.readTags(input);
      this.host.checkTags(tags);
      const g: DbParameterGroup = {
        name: key,
        family,
        description: str(input, "Description")!,
        tags,
        values: {},
        createdAt: call.now,
      };
      groups[key] = g;
      return { DBParameterGroup: this.groupOut(call.region, g) };
    },

    DescribeDBParameterGroups: (input, call) => {
      const name = str(input, "DBParameterGroupName");
      const all = name
        ? [this.resolve(call.region, name)]
        : [
            // The account's default groups are listed with its own (they cannot be deleted).
            ...FAMILIES.map((f) => this.find(call.region, `default.${f}`)!),
            ...Object.values(this.host.groups(call.region)),
          ].sort((a, b) => a.name.localeCompare(b.name));
      const { page, marker } = this.host.page(all, input);
      return {
        DBParameterGroups: xlist(
          "DBParameterGroup",
          page.map((g) => this.groupOut(call.region, g)),
        ),
        Marker: marker,
      };
    },

    ModifyDBParameterGroup: (input, call) => {
      const name = str(input, "DBParameterGroupName")!;
      const g = this.resolve(call.region, name);
      if (isDefault(g.name))
        throw new AwsError("InvalidParameterValue", "Cannot modify a default parameter group.");
      const params = objList(input, "Parameters.Parameter");
      // At most 20 parameters per call (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBParameterGroup.html).
      if (params.length === 0 || params.length > 20)
        throw new AwsError(
          "InvalidParameterValue",
          "Between 1 and 20 parameters can be modified in a single request.",
        );
      const changes: [string, string, string][] = params.map((p) => {
        const pname = str(p, "ParameterName");
        const value = str(p, "ParameterValue");
        const method = str(p, "ApplyMethod");
        if (!pname)
          throw new AwsError("InvalidParameterValue", "The parameter ParameterName must be provided.");
        const def = PARAMETERS[pname];
        if (!def) throw new AwsError("InvalidParameterValue", `Could not find parameter with name: ${pname}`);
        if (value === undefined)
          throw new AwsError("InvalidParameterValue", `A value must be provided for parameter ${pname}.`);
        if (method === undefined)
          throw new AwsError(
            "InvalidParameterValue",
            `An apply method must be provided for parameter ${pname}.`,
          );
        if (!def.valid(value))
          throw new AwsError(
            "InvalidParameterValue",
            `Invalid parameter value: ${value} for: ${pname} allowed values are: ${def.allowed}`,
          );
        // `immediate` is for dynamic parameters only (same reference).
        if (method === "immediate" && def.applyType === "static")
          throw new AwsError(
            "InvalidParameterCombination",
            `cannot use immediate apply method for static parameter ${pname}`,
          );
        return [pname, value, method];
      });
      for (const [pname, value, method] of changes) {
        g.values[pname] = value;
        // A dynamic change with `immediate` reaches the members at once; anything else waits for a reboot.
        if (method !== "immediate")
          for (const db of this.members(call.region, g.name, call.now))
            db.parameterApplyStatus = "pending-reboot";
      }
      return { DBParameterGroupName: g.name };
    },

    DescribeDBParameters: (input, call) => {
      const g = this.resolve(call.region, str(input, "DBParameterGroupName")!);
      const source = str(input, "Source");
      if (source !== undefined && !["user", "system", "engine-default"].includes(source))
        throw new AwsError(
          "InvalidParameterValue",
          `Invalid value ${source} for Source. Valid values: user, system, engine-default.`,
        );
      const rows = Object.entries(PARAMETERS)
        .map(([pname, def]) => {
          const user = g.values[pname];
          return {
            ParameterName: pname,
            ParameterValue: user ?? def.default,
            Description: def.description,
            Source: user !== undefined ? "user" : "engine-default",
            ApplyType: def.applyType,
            DataType: def.dataType,
            AllowedValues: def.allowed,
            IsModifiable: true,
            ApplyMethod: def.applyType === "dynamic" ? "immediate" : "pending-reboot",
          };
        })
        .filter((r) => source === undefined || r.Source === source);
      const { page, marker } = this.host.page(rows, input);
      return { Parameters: xlist("Parameter", page), Marker: marker };
    },

    DeleteDBParameterGroup: (input, call) => {
      const name = str(input, "DBParameterGroupName")!;
      const g = this.resolve(call.region, name);
      // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBParameterGroup.html: default
      // groups cannot be deleted, nor groups associated with any DB instance (a deleting one still is).
      if (isDefault(g.name))
        throw new AwsError(
          "InvalidDBParameterGroupState",
          `Default DBParameterGroup cannot be deleted: ${g.name}`,
        );
      if (this.members(call.region, g.name, call.now).length > 0)
        throw new AwsError(
          "InvalidDBParameterGroupState",
          `One or more database instances are still members of this parameter group ${g.name}, so the group cannot be deleted`,
        );
      delete this.host.groups(call.region)[g.name];
      return undefined;
    },

    RebootDBInstance: (input, call: Call) => {
      const db = this.host.get(call.region, str(input, "DBInstanceIdentifier")!, call.now);
      // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RebootDBInstance.html (InvalidDBInstanceState)
      if (this.host.status(db, call.now) !== "available")
        throw new AwsError("InvalidDBInstanceState", "Database instance is not in available state.");
      db.rebootingSince = call.now;
      return { DBInstance: this.host.instanceOut(call.region, db, call.now) };
    },
  };
}

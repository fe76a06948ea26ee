/**
 * Amazon RDS ModifyDBInstance: pending or immediate changes, master password, parameter group.
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html
 */
import type { Call } from "../kernel/call.js";
import { AwsError } from "../kernel/errors.js";
import { bool, int, str, strList, type Tree } from "../kernel/query.js";
import { checkSecurityGroups, checkStorage } from "./checks.js";
import { checkMasterPassword, DB_CLASSES } from "./model.js";
import type { RdsService } from "./service.js";

export async function modify(svc: RdsService, input: Tree, call: Call): Promise<object> {
  const db = svc.get(call.region, str(input, "DBInstanceIdentifier")!, call.now);
  const status = svc.status(db, call.now);
  // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html (InvalidDBInstanceState)
  if (status !== "available")
    throw new AwsError("InvalidDBInstanceState", `Database instance is not in available state.`);
  const apply = bool(input, "ApplyImmediately") ?? false;
  const dp = bool(input, "DeletionProtection");
  if (dp !== undefined) db.deletionProtection = dp;
  const backup = int(input, "BackupRetentionPeriod");
  if (backup !== undefined) {
    if (backup < 0 || backup > 35)
      throw new AwsError(
        "InvalidParameterValue",
        `Invalid backup retention period: ${backup}. Valid values are 0 to 35.`,
      );
    db.backupRetention = backup;
  }
  const pub = bool(input, "PubliclyAccessible");
  if (pub !== undefined) db.publiclyAccessible = pub;
  const sgIds = strList(input, "VpcSecurityGroupIds.VpcSecurityGroupId");
  if (sgIds.length) {
    const group = svc.resolveGroup(call.region, db.subnetGroup);
    checkSecurityGroups(svc, call.region, sgIds, group.vpcId);
    db.vpcSecurityGroupIds = sgIds;
  }
  const pw = str(input, "MasterUserPassword");
  if (pw !== undefined) {
    checkMasterPassword(pw);
    if (svc.backing) {
      db.masterPassword = svc.masterDigest(pw);
      try {
        await svc.backing.ensureMasterUser(db.masterUsername, pw, db.dbName);
      } catch (err) {
        svc.backing.warn(`RDS ${db.id}: could not change the password on MariaDB: ${(err as Error).message}`);
      }
    }
  }
  const changes: Record<string, string | number | boolean> = {};
  const cls = str(input, "DBInstanceClass");
  if (cls !== undefined && cls !== db.dbClass) {
    if (!DB_CLASSES.has(cls))
      throw new AwsError(
        "InvalidParameterCombination",
        `RDS does not support creating a DB instance with the following combination: DBInstanceClass=${cls}, Engine=${db.engine}, EngineVersion=${db.engineVersion}, LicenseModel=general-public-license. For supported combinations of instance class and database engine version, see the documentation.`,
      );
    changes.DBInstanceClass = cls;
  }
  const storage = int(input, "AllocatedStorage");
  if (storage !== undefined && storage !== db.allocatedStorage) {
    // Storage can only grow (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.StorageTypes.html#USER_PIOPS.ModifyingExisting).
    if (storage < db.allocatedStorage)
      throw new AwsError(
        "InvalidParameterValue",
        "Invalid storage size: you can't reduce the allocated storage of a DB instance.",
      );
    // A smaller increase than 10% is rounded up to 10% (ModifyDBInstance reference, AllocatedStorage:
    // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html).
    const grown = Math.max(storage, Math.ceil(db.allocatedStorage * 1.1));
    checkStorage(db.storageType, grown);
    changes.AllocatedStorage = grown;
  }
  const multi = bool(input, "MultiAZ");
  if (multi !== undefined && multi !== db.multiAZ) changes.MultiAZ = multi;
  const ev = str(input, "EngineVersion");
  if (ev !== undefined) {
    const v = svc.resolveVersion(db.engine, ev);
    if (v !== db.engineVersion) changes.EngineVersion = v;
  }
  const pgIn = str(input, "DBParameterGroupName");
  const target = typeof changes.EngineVersion === "string" ? changes.EngineVersion : db.engineVersion;
  svc.parameterGroups.checkUpgrade(db, target, pgIn);
  if (pgIn !== undefined) svc.parameterGroups.associate(call.region, db, pgIn, target);
  if (Object.keys(changes).length) {
    Object.assign(db.pending, changes);
    // Without ApplyImmediately, changes wait for the maintenance window (shown as PendingModifiedValues).
    if (apply) db.modifyingSince = call.now;
  }
  return { DBInstance: svc.instanceOut(call.region, db, call.now) };
}

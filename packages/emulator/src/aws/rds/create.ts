/**
 * Amazon RDS CreateDBInstance: checks, placement in the subnet group, parameter group, MariaDB user.
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html
 */
import type { Call } from "../kernel/call.js";
import { ACCOUNT_ID, UPPER_ALNUM } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { bool, int, str, strList, type Tree } from "../kernel/query.js";
import { checkSecurityGroups, checkStorage } from "./checks.js";
import {
  checkDbIdentifier,
  checkMasterPassword,
  checkMasterUsername,
  checkRdsTags,
  DB_CLASSES,
  type DbInstance,
  ENGINE_VERSIONS,
  missing,
  readTags,
} from "./model.js";
import type { RdsService } from "./service.js";

export async function create(svc: RdsService, input: Tree, call: Call): Promise<object> {
  const r = svc.region(call.region);
  const rawId = str(input, "DBInstanceIdentifier")!;
  checkDbIdentifier(rawId);
  const id = rawId.toLowerCase();
  const engine = str(input, "Engine")!;
  // This emulator offers the MySQL-compatible engines only.
  if (!ENGINE_VERSIONS[engine]) throw new AwsError("InvalidParameterValue", `Invalid DB engine: ${engine}`);
  const engineVersion = svc.resolveVersion(engine, str(input, "EngineVersion"));
  const dbClass = str(input, "DBInstanceClass")!;
  if (!DB_CLASSES.has(dbClass)) {
    throw new AwsError(
      "InvalidParameterCombination",
      `RDS does not support creating a DB instance with the following combination: DBInstanceClass=${dbClass}, Engine=${engine}, EngineVersion=${engineVersion}, LicenseModel=general-public-license. For supported combinations of instance class and database engine version, see the documentation.`,
    );
  }
  const username = str(input, "MasterUsername");
  if (!username) throw missing("MasterUsername");
  checkMasterUsername(username);
  const manage = bool(input, "ManageMasterUserPassword") ?? false;
  const password = str(input, "MasterUserPassword");
  if (manage && password !== undefined) {
    throw new AwsError(
      "InvalidParameterCombination",
      "You can't specify MasterUserPassword when ManageMasterUserPassword is turned on.",
    );
  }
  if (!manage) {
    if (password === undefined || password === "") throw missing("MasterUserPassword");
    checkMasterPassword(password);
  }
  const dbName = str(input, "DBName");
  // MySQL DBName: 1-64 letters/digits/underscores, beginning with a letter (CreateDBInstance reference).
  if (dbName !== undefined && !/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(dbName)) {
    throw new AwsError(
      "InvalidParameterValue",
      "DBName must begin with a letter and contain only alphanumeric characters.",
    );
  }
  const storage = int(input, "AllocatedStorage");
  if (storage === undefined)
    throw new AwsError(
      "InvalidParameterValue",
      "The parameter AllocatedStorage must be provided and must not be null.",
    );
  const storageType = str(input, "StorageType") ?? "gp2";
  const iops = int(input, "Iops");
  checkStorage(storageType, storage, iops);
  const maxStorage = int(input, "MaxAllocatedStorage");
  if (maxStorage !== undefined && maxStorage < storage) {
    throw new AwsError("InvalidParameterCombination", "Max storage size must be greater than storage size");
  }
  const backup = int(input, "BackupRetentionPeriod") ?? 1;
  // 0-35 days (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html).
  if (backup < 0 || backup > 35)
    throw new AwsError(
      "InvalidParameterValue",
      `Invalid backup retention period: ${backup}. Valid values are 0 to 35.`,
    );
  const port = int(input, "Port") ?? 3306;
  // MySQL ports: 1150-65535 (CreateDBInstance reference).
  if (port < 1150 || port > 65535)
    throw new AwsError("InvalidParameterValue", `Invalid port ${port}. Valid values are 1150-65535.`);
  const multiAZ = bool(input, "MultiAZ") ?? false;
  const azIn = str(input, "AvailabilityZone");
  if (multiAZ && azIn) {
    throw new AwsError(
      "InvalidParameterCombination",
      "Requesting a specific availability zone is not valid for Multi-AZ instances.",
    );
  }
  const groupName = (str(input, "DBSubnetGroupName") ?? "default").toLowerCase();
  const group = svc.resolveGroup(call.region, groupName);
  const ec2 = svc.lookups.ec2.region(call.region);
  const azs = [
    ...new Set(group.subnetIds.map((s) => ec2.subnets[s]?.az).filter((a): a is string => !!a)),
  ].sort();
  if (azIn && !azs.includes(azIn)) {
    throw new AwsError(
      "InvalidParameterCombination",
      `No subnets found in the DB subnet group for availability zone ${azIn}`,
    );
  }
  let sgIds = strList(input, "VpcSecurityGroupIds.VpcSecurityGroupId");
  checkSecurityGroups(svc, call.region, sgIds, group.vpcId);
  if (sgIds.length === 0) {
    const def = Object.values(ec2.groups).find((g) => g.vpcId === group.vpcId && g.name === "default");
    sgIds = def ? [def.id] : [];
  }
  const encrypted = bool(input, "StorageEncrypted") ?? false;
  const kmsKeyId = str(input, "KmsKeyId");
  if (kmsKeyId && !encrypted)
    throw new AwsError(
      "InvalidParameterCombination",
      "Encryption must be enabled if KMS key ID is specified.",
    );
  const tags = readTags(input);
  checkRdsTags(tags);
  const pgIn = str(input, "DBParameterGroupName");
  const pg = pgIn && svc.parameterGroups.checkForInstance(call.region, pgIn, engine, engineVersion);
  // Identifiers are unique per account and region (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html).
  if (svc.live(call.region, call.now).some((d) => d.id === id))
    throw new AwsError("DBInstanceAlreadyExists", "DB instance already exists");

  const rng = svc.ctx.rng;
  const az = azIn ?? azs[rng.int(azs.length)] ?? `${call.region}a`;
  const db: DbInstance = {
    id,
    resourceId: `db-${rng.chars(26, UPPER_ALNUM)}`,
    dbClass,
    engine,
    engineVersion,
    masterUsername: username,
    masterPassword: svc.backing && password !== undefined ? svc.masterDigest(password) : undefined,
    manageMasterUserPassword: manage,
    secretArn: manage
      ? `arn:aws:secretsmanager:${call.region}:${ACCOUNT_ID}:secret:rds!db-${rng.uuid()}-${rng.chars(6, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}`
      : undefined,
    dbName,
    allocatedStorage: storage,
    maxAllocatedStorage: maxStorage,
    storageType,
    iops: iops ?? (storageType === "gp3" ? 3000 : undefined),
    storageThroughput: int(input, "StorageThroughput") ?? (storageType === "gp3" ? 125 : undefined),
    subnetGroup: group.name,
    vpcSecurityGroupIds: sgIds,
    // Without a subnet group (the default one), PubliclyAccessible defaults to true (CreateDBInstance reference).
    publiclyAccessible: bool(input, "PubliclyAccessible") ?? group.name === "default",
    storageEncrypted: encrypted,
    kmsKeyId: encrypted
      ? (kmsKeyId ?? `arn:aws:kms:${call.region}:${ACCOUNT_ID}:key/${rng.uuid()}`)
      : undefined,
    deletionProtection: bool(input, "DeletionProtection") ?? false,
    backupRetention: backup,
    multiAZ,
    port,
    az,
    secondaryAz: multiAZ ? azs.find((a) => a !== az) : undefined,
    autoMinorVersionUpgrade: bool(input, "AutoMinorVersionUpgrade") ?? true,
    copyTagsToSnapshot: bool(input, "CopyTagsToSnapshot") ?? false,
    tags,
    createdAt: call.now,
    pending: {},
    parameterGroup: pg && !pg.startsWith("default.") ? pg : undefined,
  };
  r.instances[id] = db;
  if (svc.backing) {
    db.connectPort = await svc.backing.openProxy(`${call.region}/${id}`);
    if (password !== undefined) {
      try {
        await svc.backing.ensureMasterUser(username, password, dbName);
      } catch (err) {
        svc.backing.warn(
          `RDS ${id}: could not create user '${username}' on MariaDB ${svc.backing.describe()}: ${(err as Error).message}`,
        );
      }
    }
  }
  return { DBInstance: svc.instanceOut(call.region, db, call.now) };
}

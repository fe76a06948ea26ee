/**
 * Amazon RDS: the persisted shapes, static tables (engine versions, classes, zones) and the request checks
 * its operations share.
 */
import type { Tags } from "../kernel/common.js";
import { AWS_DURATIONS } from "../kernel/durations.js";
import { AwsError } from "../kernel/errors.js";
import { objList, str, type Tree } from "../kernel/query.js";
import type { DbParameterGroup } from "./parameter-group-model.js";

export interface DbSubnetGroup {
  name: string;
  description: string;
  vpcId: string;
  subnetIds: string[];
  tags: Tags;
  createdAt: number;
}

export interface DbInstance {
  id: string;
  resourceId: string;
  dbClass: string;
  engine: string;
  engineVersion: string;
  masterUsername: string;
  /**
   * Only when a real MariaDB backs the instance: an HMAC of the password under the account key (`masterDigest`),
   * never the password itself, which goes to MariaDB and nowhere else (the state is persisted).
   */
  masterPassword?: string;
  manageMasterUserPassword: boolean;
  secretArn?: string;
  dbName?: string;
  allocatedStorage: number;
  maxAllocatedStorage?: number;
  storageType: string;
  iops?: number;
  storageThroughput?: number;
  subnetGroup: string;
  vpcSecurityGroupIds: string[];
  publiclyAccessible: boolean;
  storageEncrypted: boolean;
  kmsKeyId?: string;
  deletionProtection: boolean;
  backupRetention: number;
  multiAZ: boolean;
  port: number;
  az: string;
  secondaryAz?: string;
  autoMinorVersionUpgrade: boolean;
  copyTagsToSnapshot: boolean;
  tags: Tags;
  createdAt: number;
  modifyingSince?: number;
  pending: Record<string, string | number | boolean>;
  deletingSince?: number;
  finalSnapshotId?: string;
  /** The local proxy port when a real MariaDB backs the instance. */
  connectPort?: number;
  /** Its custom DB parameter group (parameter-groups.ts); undefined: the family's default group. */
  parameterGroup?: string;
  parameterApplyStatus?: "in-sync" | "pending-reboot";
  rebootingSince?: number;
}

export interface RdsRegion {
  instances: Record<string, DbInstance>;
  subnetGroups: Record<string, DbSubnetGroup>;
  /** Custom DB parameter groups; optional so that files persisted before them still load. */
  parameterGroups?: Record<string, DbParameterGroup>;
  /** The per-account, per-region part of endpoint names (`<id>.<suffix>.<region>.rds.amazonaws.com`). */
  endpointSuffix: string;
}

/** Durations in seconds at time scale 1 (a real MySQL instance takes ~8-10 minutes to become available). */
export const RDS_DURATIONS = AWS_DURATIONS.rds;

/** Engine versions offered (https://docs.aws.amazon.com/AmazonRDS/latest/MySQLReleaseNotes/mysql-versions.html). */
export const ENGINE_VERSIONS: Record<string, string[]> = {
  mysql: ["8.0.36", "8.0.39", "8.0.40", "8.0.41", "8.0.42", "8.0.43", "8.4.3", "8.4.4", "8.4.5", "8.4.6"],
  mariadb: ["10.6.22", "10.11.13", "11.4.7", "11.8.3"],
};
export const DEFAULT_VERSION: Record<string, string> = { mysql: "8.4.6", mariadb: "11.4.7" };

/** DB instance classes supported for MySQL (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html). */
export const DB_CLASSES = new Set(
  [
    ...["micro", "small", "medium", "large", "xlarge", "2xlarge"].flatMap((s) => [
      `db.t3.${s}`,
      `db.t4g.${s}`,
    ]),
    ...["large", "xlarge", "2xlarge", "4xlarge", "8xlarge"].flatMap((s) =>
      ["m5", "m6i", "m6g", "m7g", "m7i", "r5", "r6i", "r6g", "r7g"].map((f) => `db.${f}.${s}`),
    ),
  ].flat(),
);

/** Route 53 hosted zone ids of RDS endpoints (https://docs.aws.amazon.com/general/latest/gr/rds-service.html). */
export const RDS_ZONE_IDS: Record<string, string> = {
  "us-east-1": "Z2R2ITUGPM61AM",
  "us-east-2": "ZOJJZC49E0EPZ",
  "us-west-1": "Z10WI91S59XXQN",
  "us-west-2": "Z1PVIF0B656C1W",
  "eu-west-1": "Z29XKXDKYMONMX",
  "eu-central-1": "Z1RLNUO7B9Q6NB",
};

/** MySQL master user names RDS refuses (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.Constraints). */
export const RESERVED_USERS = new Set([
  "rdsadmin",
  "rdsrepladmin",
  "mysql.sys",
  "mysql.session",
  "mysql.infoschema",
  "root",
]);

export const missing = (name: string) =>
  new AwsError("InvalidParameterValue", `The parameter ${name} must be provided and must not be blank.`);
export const notFound = (id: string) =>
  new AwsError("DBInstanceNotFound", `DBInstance ${id} not found.`, 404);
export const groupNotFound = (name: string) =>
  new AwsError("DBSubnetGroupNotFoundFault", `DBSubnetGroup '${name}' not found.`, 404);

export function readTags(input: Tree): Tags {
  const tags: Tags = {};
  for (const t of objList(input, "Tags.Tag")) tags[str(t, "Key") ?? ""] = str(t, "Value") ?? "";
  return tags;
}

/** RDS tag rules (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html). */
export function checkRdsTags(tags: Tags): void {
  if (Object.keys(tags).length > 50)
    throw new AwsError("TagQuotaPerResourceExceeded", "Cannot add more than 50 tags to a resource.");
  const charset = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
  for (const [k, v] of Object.entries(tags)) {
    if (k.length < 1 || [...k].length > 128 || !charset.test(k))
      throw new AwsError("InvalidParameterValue", `Invalid tag key: '${k}'`);
    if ([...v].length > 256 || !charset.test(v))
      throw new AwsError("InvalidParameterValue", `Invalid tag value for key '${k}'`);
    if (/^(aws|rds):/i.test(k))
      throw new AwsError("InvalidParameterValue", `Tag keys cannot start with 'aws:' or 'rds:' (key '${k}')`);
  }
}

/**
 * DBInstanceIdentifier: 1-63 letters, digits or hyphens; first a letter; no trailing hyphen or two
 * consecutive hyphens (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html).
 */
export function checkDbIdentifier(id: string): void {
  if (
    id.length < 1 ||
    id.length > 63 ||
    !/^[A-Za-z][A-Za-z0-9-]*$/.test(id) ||
    id.endsWith("-") ||
    id.includes("--")
  ) {
    throw new AwsError(
      "InvalidParameterValue",
      "The parameter DBInstanceIdentifier is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.",
    );
  }
}

/** MySQL master password: 8-41 printable ASCII characters other than '/', '"', '@' and space (same source). */
export function checkMasterPassword(pw: string): void {
  if (!/^[\x20-\x7e]*$/.test(pw) || /[/"@ ]/.test(pw)) {
    throw new AwsError(
      "InvalidParameterValue",
      "The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '\"', ' ' may be used.",
    );
  }
  if (pw.length < 8)
    throw new AwsError(
      "InvalidParameterValue",
      "The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters.",
    );
  if (pw.length > 41)
    throw new AwsError(
      "InvalidParameterValue",
      "The parameter MasterUserPassword is not a valid password because it is longer than 41 characters.",
    );
}

/** MySQL master user: 1-16 letters, digits or underscores, first a letter, not reserved (same source). */
export function checkMasterUsername(u: string): void {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,15}$/.test(u)) {
    throw new AwsError(
      "InvalidParameterValue",
      "MasterUsername must start with a letter, contain only alphanumeric characters and underscores, and be 1 to 16 characters long.",
    );
  }
  if (RESERVED_USERS.has(u.toLowerCase())) {
    throw new AwsError(
      "InvalidParameterValue",
      `MasterUsername ${u} cannot be used as it is a reserved word used by the engine`,
    );
  }
}

/**
 * Amazon RDS (awsQuery, API 2014-10-31): DB subnet groups, MySQL/MariaDB DB instances, tags.
 * API reference: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/Welcome.html
 */
import type { InventoryItem } from "../types.js";
import { xlist } from "../xml.js";
import { accountKey, hmac } from "./auth.js";
import { ACCOUNT_ID, iso, LOWER_ALNUM, phase, type Tags, UPPER_ALNUM } from "./common.js";
import type { Subnet } from "./ec2.js";
import { AwsError } from "./errors.js";
import type { AwsCloud, Call, QueryOp } from "./index.js";
import { MysqlBacking } from "./mysql.js";
import { bool, int, objList, str, strList, type Tree } from "./query.js";
import { type DbParameterGroup, RdsParameterGroups } from "./rds-parameter-groups.js";

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
  /** Its custom DB parameter group (rds-parameter-groups.ts); undefined: the family's default group. */
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
export const RDS_DURATIONS = { creating: 420, backingUp: 120, modifying: 120, deleting: 300 };

/** Engine versions offered (https://docs.aws.amazon.com/AmazonRDS/latest/MySQLReleaseNotes/mysql-versions.html). */
const ENGINE_VERSIONS: Record<string, string[]> = {
  mysql: ["8.0.36", "8.0.39", "8.0.40", "8.0.41", "8.0.42", "8.0.43", "8.4.3", "8.4.4", "8.4.5", "8.4.6"],
  mariadb: ["10.6.22", "10.11.13", "11.4.7", "11.8.3"],
};
const DEFAULT_VERSION: Record<string, string> = { mysql: "8.4.6", mariadb: "11.4.7" };

/** DB instance classes supported for MySQL (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html). */
const DB_CLASSES = new Set(
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
const RDS_ZONE_IDS: Record<string, string> = {
  "us-east-1": "Z2R2ITUGPM61AM",
  "us-east-2": "ZOJJZC49E0EPZ",
  "us-west-1": "Z10WI91S59XXQN",
  "us-west-2": "Z1PVIF0B656C1W",
  "eu-west-1": "Z29XKXDKYMONMX",
  "eu-central-1": "Z1RLNUO7B9Q6NB",
};

/** MySQL master user names RDS refuses (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.Constraints). */
const RESERVED_USERS = new Set([
  "rdsadmin",
  "rdsrepladmin",
  "mysql.sys",
  "mysql.session",
  "mysql.infoschema",
  "root",
]);

const missing = (name: string) =>
  new AwsError("InvalidParameterValue", `The parameter ${name} must be provided and must not be blank.`);
const notFound = (id: string) => new AwsError("DBInstanceNotFound", `DBInstance ${id} not found.`, 404);
const groupNotFound = (name: string) =>
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

export class RdsService {
  private backing?: MysqlBacking;
  /** DB parameter groups and reboots (rds-parameter-groups.ts); a field, so that `ops` below can spread its ops. */
  readonly parameterGroups = new RdsParameterGroups({
    groups: (region) => (this.region(region).parameterGroups ??= {}),
    instances: (region, now) => this.live(region, now),
    status: (db, now) => this.status(db as DbInstance, now),
    get: (region, id, now) => this.get(region, id, now),
    page: (items, input) => this.page(items, input),
    readTags,
    checkTags: checkRdsTags,
    instanceOut: (region, db, now) => this.instanceOut(region, db as DbInstance, now),
  });

  /** What the state keeps of a master password: a keyed digest, so the persisted file never holds it in clear. */
  private masterDigest(password: string): string {
    return `hmac-sha256:${hmac(accountKey(this.cloud.iam), `rds-master|${password}`).toString("base64")}`;
  }

  constructor(private readonly cloud: AwsCloud) {
    const m = cloud.ctx.options.mysql;
    if (m) this.backing = new MysqlBacking(m, cloud.ctx.log);
  }

  private get scale(): number {
    return this.cloud.ctx.timeScale;
  }

  region(region: string): RdsRegion {
    const all = this.cloud.state.rds;
    let r = all[region];
    if (!r) {
      r = { instances: {}, subnetGroups: {}, endpointSuffix: this.cloud.ctx.rng.chars(12, LOWER_ALNUM) };
      all[region] = r;
    }
    return r;
  }

  /** Re-open the local proxies of live instances after a restore. */
  async init(): Promise<void> {
    if (!this.backing) return;
    const now = this.cloud.ctx.now();
    for (const [region, r] of Object.entries(this.cloud.state.rds)) {
      for (const db of Object.values(r.instances)) {
        if (db.deletingSince !== undefined || this.status(db, now) === "deleted") continue;
        db.connectPort = await this.backing.openProxy(`${region}/${db.id}`, db.connectPort);
      }
    }
  }

  async close(): Promise<void> {
    await this.backing?.closeAll();
  }

  /** The lifecycle: creating → backing-up → available (→ modifying → available); deleting → gone. */
  status(db: DbInstance, now: number): string {
    if (db.deletingSince !== undefined)
      return phase(now, db.deletingSince, this.scale, [["deleting", RDS_DURATIONS.deleting]], "deleted");
    const created = phase(
      now,
      db.createdAt,
      this.scale,
      [
        ["creating", RDS_DURATIONS.creating],
        ["backing-up", RDS_DURATIONS.backingUp],
      ],
      "available",
    );
    if (created !== "available") return created;
    if (db.modifyingSince !== undefined) {
      const s = phase(
        now,
        db.modifyingSince,
        this.scale,
        [["modifying", RDS_DURATIONS.modifying]],
        "available",
      );
      if (s === "available") this.applyPending(db);
      return s;
    }
    return this.parameterGroups.rebootPhase(db, now, this.scale);
  }

  private applyPending(db: DbInstance): void {
    const p = db.pending;
    if (typeof p.DBInstanceClass === "string") db.dbClass = p.DBInstanceClass;
    if (typeof p.AllocatedStorage === "number") db.allocatedStorage = p.AllocatedStorage;
    if (typeof p.MultiAZ === "boolean") db.multiAZ = p.MultiAZ;
    if (typeof p.EngineVersion === "string") db.engineVersion = p.EngineVersion;
    if (typeof p.StorageType === "string") db.storageType = p.StorageType;
    db.pending = {};
    db.modifyingSince = undefined;
  }

  /** Live instances (not fully deleted); purges the fully deleted ones. */
  private live(region: string, now: number): DbInstance[] {
    const r = this.region(region);
    for (const db of Object.values(r.instances))
      if (this.status(db, now) === "deleted") delete r.instances[db.id];
    return Object.values(r.instances);
  }

  private get(region: string, id: string, now: number): DbInstance {
    const db = this.live(region, now).find((d) => d.id === id.toLowerCase());
    if (!db) throw notFound(id);
    return db;
  }

  subnetInUse(region: string, subnetId: string): boolean {
    const r = this.cloud.state.rds[region];
    return !!r && Object.values(r.subnetGroups).some((g) => g.subnetIds.includes(subnetId));
  }

  groupInUse(region: string, groupId: string, now: number): boolean {
    return (
      !!this.cloud.state.rds[region] &&
      this.live(region, now).some((d) => d.vpcSecurityGroupIds.includes(groupId))
    );
  }

  inventory(now: number): InventoryItem[] {
    const out: InventoryItem[] = [];
    for (const region of Object.keys(this.cloud.state.rds)) {
      const r = this.region(region);
      for (const g of Object.values(r.subnetGroups)) {
        out.push({
          cloud: "aws",
          service: "rds",
          region,
          type: "db-subnet-group",
          id: g.name,
          name: g.name,
          state: "Complete",
          tags: { ...g.tags },
        });
      }
      out.push(...this.parameterGroups.inventory(region));
      for (const db of this.live(region, now)) {
        const item: InventoryItem = {
          cloud: "aws",
          service: "rds",
          region,
          type: "db-instance",
          id: db.id,
          name: db.id,
          state: this.status(db, now),
          tags: { ...db.tags },
        };
        if (db.connectPort !== undefined) item.connect = { host: "127.0.0.1", port: db.connectPort };
        out.push(item);
      }
    }
    return out;
  }

  private arn(region: string, kind: "db" | "subgrp", name: string): string {
    return `arn:aws:rds:${region}:${ACCOUNT_ID}:${kind}:${name}`;
  }

  private resolveGroup(region: string, name: string): DbSubnetGroup {
    const r = this.region(region);
    const g = r.subnetGroups[name.toLowerCase()];
    if (g) return g;
    if (name.toLowerCase() === "default") {
      // The implicit "default" group: the default VPC's default subnets.
      const vpc = this.cloud.ec2.defaultVpc(region);
      if (!vpc) throw new AwsError("InvalidVPCNetworkStateFault", "Default VPC not found");
      const subnets = Object.values(this.cloud.ec2.region(region).subnets).filter(
        (s) => s.vpcId === vpc.id && s.defaultForAz,
      );
      return {
        name: "default",
        description: "default",
        vpcId: vpc.id,
        subnetIds: subnets.map((s) => s.id),
        tags: {},
        createdAt: 0,
      };
    }
    throw groupNotFound(name);
  }

  private groupOut(region: string, g: DbSubnetGroup) {
    const ec2 = this.cloud.ec2.region(region);
    return {
      DBSubnetGroupName: g.name,
      DBSubnetGroupDescription: g.description,
      VpcId: g.vpcId,
      SubnetGroupStatus: "Complete",
      Subnets: xlist(
        "Subnet",
        g.subnetIds.map((id) => ({
          SubnetIdentifier: id,
          SubnetAvailabilityZone: { Name: ec2.subnets[id]?.az },
          SubnetOutpost: {},
          SubnetStatus: "Active",
        })),
      ),
      DBSubnetGroupArn: this.arn(region, "subgrp", g.name),
      SupportedNetworkTypes: ["IPV4"],
    };
  }

  private instanceOut(region: string, db: DbInstance, now: number) {
    const status = this.status(db, now);
    const r = this.region(region);
    const group = this.resolveGroupSafe(region, db.subnetGroup);
    const pending = { ...db.pending };
    if (status === "creating" && db.masterPassword !== undefined) pending.MasterUserPassword = "****";
    return {
      DBInstanceIdentifier: db.id,
      DBInstanceClass: db.dbClass,
      Engine: db.engine,
      DBInstanceStatus: status,
      MasterUsername: db.masterUsername,
      DBName: db.dbName,
      // The endpoint exists once the instance is past "creating".
      Endpoint:
        status === "creating"
          ? undefined
          : {
              Address: `${db.id}.${r.endpointSuffix}.${region}.rds.amazonaws.com`,
              Port: db.connectPort ?? db.port,
              HostedZoneId: RDS_ZONE_IDS[region] ?? "Z2R2ITUGPM61AM",
            },
      AllocatedStorage: db.allocatedStorage,
      InstanceCreateTime:
        status === "creating" ? undefined : iso(db.createdAt + RDS_DURATIONS.creating * 1000 * this.scale),
      PreferredBackupWindow: "03:00-03:30",
      BackupRetentionPeriod: db.backupRetention,
      DBSecurityGroups: xlist("DBSecurityGroup", []),
      VpcSecurityGroups: xlist(
        "VpcSecurityGroupMembership",
        db.vpcSecurityGroupIds.map((id) => ({ VpcSecurityGroupId: id, Status: "active" })),
      ),
      DBParameterGroups: this.parameterGroups.statusOut(db),
      AvailabilityZone: status === "creating" ? undefined : db.az,
      DBSubnetGroup: group ? this.groupOut(region, group) : undefined,
      PreferredMaintenanceWindow: "sun:05:00-sun:05:30",
      PendingModifiedValues: pending,
      LatestRestorableTime: status === "available" ? iso(now - 5 * 60 * 1000) : undefined,
      MultiAZ: db.multiAZ,
      EngineVersion: db.engineVersion,
      AutoMinorVersionUpgrade: db.autoMinorVersionUpgrade,
      ReadReplicaDBInstanceIdentifiers: xlist("ReadReplicaDBInstanceIdentifier", []),
      LicenseModel: "general-public-license",
      Iops: db.iops,
      StorageThroughput: db.storageThroughput,
      OptionGroupMemberships: xlist("OptionGroupMembership", [
        {
          OptionGroupName: `default:${db.engine}-${db.engineVersion.split(".").slice(0, 2).join("-")}`,
          Status: "in-sync",
        },
      ]),
      SecondaryAvailabilityZone: db.multiAZ && status !== "creating" ? db.secondaryAz : undefined,
      PubliclyAccessible: db.publiclyAccessible,
      StorageType: db.storageType,
      DbInstancePort: 0,
      StorageEncrypted: db.storageEncrypted,
      KmsKeyId: db.kmsKeyId,
      DbiResourceId: db.resourceId,
      CACertificateIdentifier: "rds-ca-rsa2048-g1",
      DomainMemberships: xlist("DomainMembership", []),
      CopyTagsToSnapshot: db.copyTagsToSnapshot,
      MonitoringInterval: 0,
      DBInstanceArn: this.arn(region, "db", db.id),
      IAMDatabaseAuthenticationEnabled: false,
      PerformanceInsightsEnabled: false,
      DeletionProtection: db.deletionProtection,
      AssociatedRoles: xlist("DBInstanceRole", []),
      MaxAllocatedStorage: db.maxAllocatedStorage,
      TagList: xlist(
        "Tag",
        Object.entries(db.tags).map(([Key, Value]) => ({ Key, Value })),
      ),
      CustomerOwnedIpEnabled: false,
      NetworkType: "IPV4",
      BackupTarget: "region",
      CertificateDetails: { CAIdentifier: "rds-ca-rsa2048-g1", ValidTill: "2061-01-01T00:00:00Z" },
      MasterUserSecret: db.secretArn
        ? {
            SecretArn: db.secretArn,
            SecretStatus: status === "creating" ? "creating" : "active",
            KmsKeyId: `arn:aws:kms:${region}:${ACCOUNT_ID}:alias/aws/secretsmanager`,
          }
        : undefined,
      DedicatedLogVolume: false,
      EngineLifecycleSupport: "open-source-rds-extended-support",
    };
  }

  private resolveGroupSafe(region: string, name: string): DbSubnetGroup | undefined {
    try {
      return this.resolveGroup(region, name);
    } catch {
      return undefined;
    }
  }

  /** The versions this region offers: `fixtures.aws.rdsEngineVersions` for the engine, else the built-in table. */
  private engineVersions(engine: string): string[] {
    const fixture = this.cloud.ctx.options.fixtures?.aws?.rdsEngineVersions;
    return fixture?.[engine as keyof typeof fixture] ?? ENGINE_VERSIONS[engine] ?? [];
  }

  private resolveVersion(engine: string, version: string | undefined): string {
    const versions = this.engineVersions(engine);
    if (!version)
      return versions.includes(DEFAULT_VERSION[engine]!) ? DEFAULT_VERSION[engine]! : versions.at(-1)!;
    if (versions.includes(version)) return version;
    // A major version such as "8.4" picks that major version's default (latest) minor.
    const major = versions.filter((v) => v.startsWith(`${version}.`));
    if (major.length) return major[major.length - 1]!;
    throw new AwsError("InvalidParameterCombination", `Cannot find version ${version} for ${engine}`);
  }

  readonly ops: Record<string, QueryOp> = {
    ...this.parameterGroups.ops,
    CreateDBSubnetGroup: (input, call) => {
      const r = this.region(call.region);
      const name = str(input, "DBSubnetGroupName")!;
      // Name: up to 255 letters, numbers, periods, underscores, spaces or hyphens; not "default"
      // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html).
      if (!/^[A-Za-z0-9._ -]{1,255}$/.test(name) || name.toLowerCase() === "default") {
        throw new AwsError(
          "InvalidParameterValue",
          `Invalid DB subnet group name: ${name}. The name must contain only letters, digits, periods, underscores, spaces, or hyphens, and must not be "default".`,
        );
      }
      const key = name.toLowerCase();
      if (r.subnetGroups[key])
        throw new AwsError("DBSubnetGroupAlreadyExists", `The DB subnet group '${key}' already exists.`);
      const ids = strList(input, "SubnetIds.SubnetIdentifier");
      const subnets = this.checkGroupSubnets(call.region, ids);
      const tags = readTags(input);
      checkRdsTags(tags);
      const g: DbSubnetGroup = {
        name: key,
        description: str(input, "DBSubnetGroupDescription")!,
        vpcId: subnets[0]!.vpcId,
        subnetIds: [...new Set(ids)],
        tags,
        createdAt: call.now,
      };
      r.subnetGroups[key] = g;
      return { DBSubnetGroup: this.groupOut(call.region, g) };
    },

    ModifyDBSubnetGroup: (input, call) => {
      const r = this.region(call.region);
      const name = str(input, "DBSubnetGroupName")!.toLowerCase();
      const g = r.subnetGroups[name];
      if (!g) throw groupNotFound(name);
      const ids = strList(input, "SubnetIds.SubnetIdentifier");
      const subnets = this.checkGroupSubnets(call.region, ids);
      // An in-use group can't move to another VPC (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBSubnetGroup.html).
      const used = this.live(call.region, call.now).filter((d) => d.subnetGroup === name);
      if (used.length && subnets[0]!.vpcId !== g.vpcId) {
        throw new AwsError(
          "InvalidSubnet",
          "The new subnets are in a different VPC than the DB instances using this subnet group.",
        );
      }
      const azs = new Set(subnets.map((s) => s.az));
      const lost = used.find(
        (d) => !azs.has(d.az) || (d.secondaryAz !== undefined && !azs.has(d.secondaryAz)),
      );
      if (lost)
        throw new AwsError(
          "SubnetAlreadyInUse",
          `The DB subnet group is in use by ${lost.id} in ${lost.az}: keep a subnet in that Availability Zone.`,
        );
      g.subnetIds = [...new Set(ids)];
      g.vpcId = subnets[0]!.vpcId;
      const desc = str(input, "DBSubnetGroupDescription");
      if (desc !== undefined) g.description = desc;
      return { DBSubnetGroup: this.groupOut(call.region, g) };
    },

    DescribeDBSubnetGroups: (input, call) => {
      const r = this.region(call.region);
      const name = str(input, "DBSubnetGroupName");
      let groups = Object.values(r.subnetGroups);
      if (name) groups = [this.resolveGroup(call.region, name)];
      const { page, marker } = this.page(groups, input);
      return {
        DBSubnetGroups: xlist(
          "DBSubnetGroup",
          page.map((g) => this.groupOut(call.region, g)),
        ),
        Marker: marker,
      };
    },

    DeleteDBSubnetGroup: (input, call) => {
      const r = this.region(call.region);
      const name = str(input, "DBSubnetGroupName")!.toLowerCase();
      const g = r.subnetGroups[name];
      if (!g) throw groupNotFound(name);
      // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBSubnetGroup.html (InvalidDBSubnetGroupStateFault)
      if (this.live(call.region, call.now).some((d) => d.subnetGroup === name)) {
        throw new AwsError(
          "InvalidDBSubnetGroupStateFault",
          `Cannot delete the subnet group '${name}' because at least one database instance: ${this.live(call.region, call.now).find((d) => d.subnetGroup === name)!.id} is still using it.`,
        );
      }
      delete r.subnetGroups[name];
      return undefined;
    },

    CreateDBInstance: (input, call) => this.create(input, call),

    DescribeDBInstances: (input, call) => {
      const id = str(input, "DBInstanceIdentifier");
      let dbs = this.live(call.region, call.now);
      if (id) dbs = [this.get(call.region, id, call.now)];
      for (const f of objList(input, "Filters.Filter")) {
        const fname = str(f, "Name") ?? "";
        const values = strList(f, "Values.Value");
        const field: Record<string, (d: DbInstance) => string[]> = {
          "db-instance-id": (d) => [d.id, this.arn(call.region, "db", d.id)],
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
      const { page, marker } = this.page(dbs, input);
      return {
        DBInstances: xlist(
          "DBInstance",
          page.map((d) => this.instanceOut(call.region, d, call.now)),
        ),
        Marker: marker,
      };
    },

    ModifyDBInstance: (input, call) => this.modify(input, call),

    DeleteDBInstance: async (input, call) => {
      const db = this.get(call.region, str(input, "DBInstanceIdentifier")!, call.now);
      const status = this.status(db, call.now);
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
      if (this.backing) await this.backing.closeProxy(`${call.region}/${db.id}`);
      return { DBInstance: this.instanceOut(call.region, db, call.now) };
    },

    DescribeDBEngineVersions: (input) => {
      const engine = str(input, "Engine");
      const version = str(input, "EngineVersion");
      const defaultOnly = bool(input, "DefaultOnly") ?? false;
      const rows: object[] = [];
      for (const eng of Object.keys(ENGINE_VERSIONS)) {
        if (engine && engine !== eng) continue;
        for (const v of this.engineVersions(eng)) {
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
      const tags = this.tagsOf(call, str(input, "ResourceName")!);
      return {
        TagList: xlist(
          "Tag",
          Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        ),
      };
    },

    AddTagsToResource: (input, call) => {
      const tags = this.tagsOf(call, str(input, "ResourceName")!);
      const add = readTags(input);
      checkRdsTags({ ...tags, ...add });
      Object.assign(tags, add);
      return undefined;
    },

    RemoveTagsFromResource: (input, call) => {
      const tags = this.tagsOf(call, str(input, "ResourceName")!);
      for (const k of strList(input, "TagKeys.member")) delete tags[k];
      return undefined;
    },
  };

  /** Subnets of a DB subnet group: existing, one VPC, at least two AZs. */
  private checkGroupSubnets(region: string, ids: string[]): Subnet[] {
    if (ids.length === 0) throw missing("SubnetIds");
    const subnets = ids.map((id) => {
      const s = this.cloud.ec2.region(region).subnets[id];
      if (!s) throw new AwsError("InvalidSubnet", `Some input subnets in :[${ids.join(", ")}] are invalid.`);
      return s;
    });
    if (new Set(subnets.map((s) => s.vpcId)).size > 1) {
      throw new AwsError("InvalidSubnet", "Subnets in a DB subnet group must all be in the same VPC.");
    }
    // A DB subnet group must cover at least two Availability Zones
    // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html#USER_VPC.Subnets).
    if (new Set(subnets.map((s) => s.az)).size < 2) {
      throw new AwsError(
        "DBSubnetGroupDoesNotCoverEnoughAZs",
        "The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ coverage: " +
          `${[...new Set(subnets.map((s) => s.az))].join(", ")}. Add subnets to cover at least 2 AZs.`,
      );
    }
    return subnets;
  }

  private tagsOf(call: Call, arn: string): Tags {
    const m = /^arn:aws:rds:([^:]+):(\d{12}):(db|subgrp|pg):(.+)$/.exec(arn);
    // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html#USER_Tagging.ARN
    if (!m)
      throw new AwsError(
        "InvalidParameterValue",
        `The specified resource name does not match an RDS resource in this region.`,
      );
    if (m[1] !== call.region)
      throw new AwsError(
        "InvalidParameterValue",
        "The specified resource name does not match an RDS resource in this region.",
      );
    if (m[3] === "db") return this.get(call.region, m[4]!, call.now).tags;
    if (m[3] === "pg") return this.parameterGroups.tags(call.region, m[4]!);
    const g = this.region(call.region).subnetGroups[m[4]!.toLowerCase()];
    if (!g) throw groupNotFound(m[4]!);
    return g.tags;
  }

  /** RDS Marker paging (MaxRecords 20-100, default 100). */
  private page<T>(items: T[], input: Tree): { page: T[]; marker?: string } {
    const max = int(input, "MaxRecords") ?? 100;
    if (max < 20 || max > 100)
      throw new AwsError(
        "InvalidParameterValue",
        `Invalid value ${max} for MaxRecords. Must be between 20 and 100`,
      );
    const markerIn = str(input, "Marker");
    const start = markerIn ? Number(Buffer.from(markerIn, "base64url").toString()) || 0 : 0;
    const page = items.slice(start, start + max);
    return start + max < items.length
      ? { page, marker: Buffer.from(String(start + max)).toString("base64url") }
      : { page };
  }

  private checkSecurityGroups(region: string, ids: string[], vpcId: string): void {
    const ec2 = this.cloud.ec2.region(region);
    for (const id of ids) {
      const g = ec2.groups[id];
      if (!g)
        throw new AwsError("InvalidParameterValue", `Invalid security group , groupId= ${id}, groupName=.`);
      // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html
      if (g.vpcId !== vpcId)
        throw new AwsError(
          "InvalidParameterCombination",
          "The DB instance and EC2 security group are in different VPCs.",
        );
    }
  }

  private checkStorage(type: string, size: number, iops?: number): void {
    // Storage ranges for MySQL (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html).
    const ranges: Record<string, [number, number]> = {
      gp2: [20, 65536],
      gp3: [20, 65536],
      io1: [100, 65536],
      io2: [100, 65536],
      standard: [5, 3072],
    };
    const range = ranges[type];
    if (!range) throw new AwsError("InvalidParameterValue", `Invalid storage type: ${type}`);
    if (size < range[0] || size > range[1]) {
      throw new AwsError(
        "InvalidParameterValue",
        `Invalid storage size for engine name mysql and storage type ${type}: ${size}`,
      );
    }
    if ((type === "io1" || type === "io2") && iops === undefined)
      throw new AwsError("InvalidParameterCombination", `You must specify Iops for storage type ${type}.`);
  }

  private async create(input: Tree, call: Call): Promise<object> {
    const r = this.region(call.region);
    const rawId = str(input, "DBInstanceIdentifier")!;
    checkDbIdentifier(rawId);
    const id = rawId.toLowerCase();
    const engine = str(input, "Engine")!;
    // This emulator offers the MySQL-compatible engines only.
    if (!ENGINE_VERSIONS[engine]) throw new AwsError("InvalidParameterValue", `Invalid DB engine: ${engine}`);
    const engineVersion = this.resolveVersion(engine, str(input, "EngineVersion"));
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
    this.checkStorage(storageType, storage, iops);
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
    const group = this.resolveGroup(call.region, groupName);
    const ec2 = this.cloud.ec2.region(call.region);
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
    this.checkSecurityGroups(call.region, sgIds, group.vpcId);
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
    const pg = pgIn && this.parameterGroups.checkForInstance(call.region, pgIn, engine, engineVersion);
    // Identifiers are unique per account and region (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html).
    if (this.live(call.region, call.now).some((d) => d.id === id))
      throw new AwsError("DBInstanceAlreadyExists", "DB instance already exists");

    const rng = this.cloud.ctx.rng;
    const az = azIn ?? azs[rng.int(azs.length)] ?? `${call.region}a`;
    const db: DbInstance = {
      id,
      resourceId: `db-${rng.chars(26, UPPER_ALNUM)}`,
      dbClass,
      engine,
      engineVersion,
      masterUsername: username,
      masterPassword: this.backing && password !== undefined ? this.masterDigest(password) : undefined,
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
    if (this.backing) {
      db.connectPort = await this.backing.openProxy(`${call.region}/${id}`);
      if (password !== undefined) {
        try {
          await this.backing.ensureMasterUser(username, password, dbName);
        } catch (err) {
          this.backing.warn(
            `RDS ${id}: could not create user '${username}' on MariaDB ${this.backing.describe()}: ${(err as Error).message}`,
          );
        }
      }
    }
    return { DBInstance: this.instanceOut(call.region, db, call.now) };
  }

  private async modify(input: Tree, call: Call): Promise<object> {
    const db = this.get(call.region, str(input, "DBInstanceIdentifier")!, call.now);
    const status = this.status(db, call.now);
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
      const group = this.resolveGroup(call.region, db.subnetGroup);
      this.checkSecurityGroups(call.region, sgIds, group.vpcId);
      db.vpcSecurityGroupIds = sgIds;
    }
    const pw = str(input, "MasterUserPassword");
    if (pw !== undefined) {
      checkMasterPassword(pw);
      if (this.backing) {
        db.masterPassword = this.masterDigest(pw);
        try {
          await this.backing.ensureMasterUser(db.masterUsername, pw, db.dbName);
        } catch (err) {
          this.backing.warn(
            `RDS ${db.id}: could not change the password on MariaDB: ${(err as Error).message}`,
          );
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
      this.checkStorage(db.storageType, grown);
      changes.AllocatedStorage = grown;
    }
    const multi = bool(input, "MultiAZ");
    if (multi !== undefined && multi !== db.multiAZ) changes.MultiAZ = multi;
    const ev = str(input, "EngineVersion");
    if (ev !== undefined) {
      const v = this.resolveVersion(db.engine, ev);
      if (v !== db.engineVersion) changes.EngineVersion = v;
    }
    const pgIn = str(input, "DBParameterGroupName");
    const target = typeof changes.EngineVersion === "string" ? changes.EngineVersion : db.engineVersion;
    this.parameterGroups.checkUpgrade(db, target, pgIn);
    if (pgIn !== undefined) this.parameterGroups.associate(call.region, db, pgIn, target);
    if (Object.keys(changes).length) {
      Object.assign(db.pending, changes);
      // Without ApplyImmediately, changes wait for the maintenance window (shown as PendingModifiedValues).
      if (apply) db.modifyingSince = call.now;
    }
    return { DBInstance: this.instanceOut(call.region, db, call.now) };
  }
}

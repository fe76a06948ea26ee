/**
 * Amazon RDS (awsQuery, API 2014-10-31): the service's state per region, the DB instance lifecycle, the
 * MariaDB backing, and the response shapes. Operations live beside it (subnet-groups, instances, create,
 * modify, parameter-groups), assembled in index.ts.
 * API reference: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/Welcome.html
 */

import type { CloudContext } from "../../cloud.js";
import { xlist } from "../../xml.js";
import { ACCOUNT_ID, hmac, iso, LOWER_ALNUM, phase } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import type { AwsLookups, ServiceKernel } from "../kernel/lookups.js";
import { int, str, type Tree } from "../kernel/query.js";
import {
  checkRdsTags,
  type DbInstance,
  type DbSubnetGroup,
  DEFAULT_VERSION,
  ENGINE_VERSIONS,
  groupNotFound,
  notFound,
  RDS_DURATIONS,
  RDS_ZONE_IDS,
  type RdsRegion,
  readTags,
} from "./model.js";
import { MysqlBacking } from "./mysql.js";
import { RdsParameterGroups } from "./parameter-groups.js";

export class RdsService {
  backing: MysqlBacking | undefined;
  /** DB parameter groups and reboots (parameter-groups.ts). */
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
  masterDigest(password: string): string {
    return `hmac-sha256:${hmac(this.lookups.iam.accountKey(), `rds-master|${password}`).toString("base64")}`;
  }

  constructor(private readonly k: ServiceKernel<Record<string, RdsRegion>>) {
    const m = k.ctx.options.mysql;
    if (m) this.backing = new MysqlBacking(m, k.ctx.log);
  }

  get ctx(): CloudContext {
    return this.k.ctx;
  }

  get lookups(): AwsLookups {
    return this.k.lookups;
  }

  /** Every region's state as stored. */
  regions(): Record<string, RdsRegion> {
    return this.k.state();
  }

  get scale(): number {
    return this.ctx.timeScale;
  }

  region(region: string): RdsRegion {
    const all = this.k.state();
    let r = all[region];
    if (!r) {
      r = { instances: {}, subnetGroups: {}, endpointSuffix: this.ctx.rng.chars(12, LOWER_ALNUM) };
      all[region] = r;
    }
    return r;
  }

  /** Re-open the local proxies of live instances after a restore. */
  async init(): Promise<void> {
    if (!this.backing) return;
    const now = this.ctx.now();
    for (const [region, r] of Object.entries(this.k.state())) {
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

  applyPending(db: DbInstance): void {
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
  live(region: string, now: number): DbInstance[] {
    const r = this.region(region);
    for (const db of Object.values(r.instances))
      if (this.status(db, now) === "deleted") delete r.instances[db.id];
    return Object.values(r.instances);
  }

  get(region: string, id: string, now: number): DbInstance {
    const db = this.live(region, now).find((d) => d.id === id.toLowerCase());
    if (!db) throw notFound(id);
    return db;
  }

  subnetInUse(region: string, subnetId: string): boolean {
    const r = this.k.state()[region];
    return !!r && Object.values(r.subnetGroups).some((g) => g.subnetIds.includes(subnetId));
  }

  groupInUse(region: string, groupId: string, now: number): boolean {
    return (
      !!this.k.state()[region] && this.live(region, now).some((d) => d.vpcSecurityGroupIds.includes(groupId))
    );
  }

  arn(region: string, kind: "db" | "subgrp", name: string): string {
    return `arn:aws:rds:${region}:${ACCOUNT_ID}:${kind}:${name}`;
  }

  resolveGroup(region: string, name: string): DbSubnetGroup {
    const r = this.region(region);
    const g = r.subnetGroups[name.toLowerCase()];
    if (g) return g;
    if (name.toLowerCase() === "default") {
      // The implicit "default" group: the default VPC's default subnets.
      const vpc = this.lookups.ec2.defaultVpc(region);
      if (!vpc) throw new AwsError("InvalidVPCNetworkStateFault", "Default VPC not found");
      const subnets = Object.values(this.lookups.ec2.region(region).subnets).filter(
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

  groupOut(region: string, g: DbSubnetGroup) {
    const ec2 = this.lookups.ec2.region(region);
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

  instanceOut(region: string, db: DbInstance, now: number) {
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

  resolveGroupSafe(region: string, name: string): DbSubnetGroup | undefined {
    try {
      return this.resolveGroup(region, name);
    } catch {
      return undefined;
    }
  }

  /** The versions this region offers: `fixtures.aws.rdsEngineVersions` for the engine, else the built-in table. */
  engineVersions(engine: string): string[] {
    const fixture = this.ctx.options.fixtures?.aws?.rdsEngineVersions;
    return fixture?.[engine as keyof typeof fixture] ?? ENGINE_VERSIONS[engine] ?? [];
  }

  resolveVersion(engine: string, version: string | undefined): string {
    const versions = this.engineVersions(engine);
    if (!version)
      return versions.includes(DEFAULT_VERSION[engine]!) ? DEFAULT_VERSION[engine]! : versions.at(-1)!;
    if (versions.includes(version)) return version;
    // A major version such as "8.4" picks that major version's default (latest) minor.
    const major = versions.filter((v) => v.startsWith(`${version}.`));
    if (major.length) return major[major.length - 1]!;
    throw new AwsError("InvalidParameterCombination", `Cannot find version ${version} for ${engine}`);
  }

  /** RDS Marker paging (MaxRecords 20-100, default 100). */
  page<T>(items: T[], input: Tree): { page: T[]; marker?: string } {
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
}

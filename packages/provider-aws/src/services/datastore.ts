import type { DBInstance, RDS } from "@aws-sdk/client-rds";
import {
  type DatastoreService,
  type DatastoreSpec,
  type DatastoreState,
  InvalidConfigError,
  ProviderError,
  type ResourceContext,
  type Tags,
  waitUntil,
} from "@k3sinfra/core";
import { awsCall, collectPages } from "../call.js";
import type { AwsClients } from "../clients.js";
import { hasAwsCode } from "../errors.js";
import type { AwsOptions } from "../options.js";
import { assertOwned } from "../ownership.js";
import { datastoreInstanceClass } from "../sizing.js";
import { hasTags, tagList, tagRecord } from "../tags.js";
import {
  deleteParameterGroup,
  deleteParameterGroupsOf,
  ensureParameterGroup,
  findParameterGroups,
  groupOf,
  isParameterGroupState,
  parameterFamily,
  parameterGroupName,
  secureTransportOn,
} from "./datastore-params.js";
import { deleteSubnetGroup, findSubnetGroups } from "./datastore-sweep.js";

// Statuses from which an instance never becomes available by waiting.
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html#Overview.DBInstance.Status
const FAILED = [
  "failed",
  "incompatible-restore",
  "incompatible-parameters",
  "incompatible-network",
  "incompatible-option-group",
  "inaccessible-encryption-credentials",
  "inaccessible-encryption-credentials-recoverable",
  "insufficient-capacity",
  "restore-error",
  "storage-full",
  "deleting",
  "deleted",
];
/** RDS needs hours at worst (Multi-AZ, large storage); the orchestrator's signal is the real bound. */
const RDS_WAIT_MS = 4 * 60 * 60_000;

/** UTC timestamp for final snapshot ids, `20260131-120000` (RDS identifiers allow letters, digits, single hyphens). */
const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace("T", "-").replace(/\..*$/, "");

/**
 * The datastore state with what the AWS provider adds: the instance's DB parameter group and whether
 * `require_secure_transport` is in force there (on, and not waiting for a reboot). Both are read back by
 * `read`, so a group swapped or a parameter turned off by hand shows as drift, which `update` repairs.
 */
export interface AwsDatastoreState extends DatastoreState {
  readonly parameterGroup?: string | undefined;
  readonly secureTransport?: boolean | undefined;
}

/** What the datastore service needs from the cluster config beyond the spec. */
export interface DatastoreSettings {
  /** Database K3s uses (`datastore.databaseName`); created by RDS so kine finds it. */
  readonly databaseName?: string | undefined;
}

/**
 * RDS for MySQL, private (no public address, reachable only through the datastore security group),
 * encrypted, with automated backups, in a DB subnet group over the cluster's zones.
 */
export class AwsDatastoreService implements DatastoreService {
  readonly updatable = [
    "deletionProtection",
    "backupRetentionDays",
    "storageGiB",
    "highAvailability",
    "size",
    "instanceClass",
  ] as const satisfies readonly (keyof DatastoreSpec)[];
  readonly #clients: AwsClients;
  readonly #options: AwsOptions;
  readonly #settings: DatastoreSettings;

  constructor(clients: AwsClients, options: AwsOptions, settings: DatastoreSettings = {}) {
    this.#clients = clients;
    this.#options = options;
    this.#settings = settings;
  }

  native(): Promise<RDS> {
    return this.#clients.rds();
  }

  async create(spec: DatastoreSpec, ctx: ResourceContext): Promise<DatastoreState> {
    const rds = await this.#clients.rds();
    const instanceClass = this.#instanceClass(spec);
    await this.#ensureSubnetGroup(rds, spec, ctx);
    // Before the instance, so that it starts with TLS required (no reboot to apply a group later).
    const family = parameterFamily(spec.version);
    const parameterGroup = parameterGroupName(ctx.name, family);
    await ensureParameterGroup(rds, parameterGroup, family, ctx);
    const password = spec.password.reveal();
    try {
      ctx.report(`creating RDS MySQL ${spec.version} ${instanceClass}`);
      await awsCall(
        `RDS CreateDBInstance (${ctx.name})`,
        ctx,
        (o) =>
          rds.createDBInstance(
            {
              DBInstanceIdentifier: ctx.name,
              DBInstanceClass: instanceClass,
              Engine: "mysql",
              EngineVersion: spec.version,
              AutoMinorVersionUpgrade: true,
              DBName: this.#settings.databaseName,
              MasterUsername: spec.username,
              MasterUserPassword: password,
              AllocatedStorage: spec.storageGiB,
              StorageType: "gp3",
              StorageEncrypted: true,
              // Explicit: RDS defaults to public when no subnet group or the default one is used.
              PubliclyAccessible: false,
              DBSubnetGroupName: ctx.name,
              DBParameterGroupName: parameterGroup,
              VpcSecurityGroupIds: [spec.network.groups.datastore],
              MultiAZ: this.#multiAz(spec),
              DeletionProtection: spec.deletionProtection,
              BackupRetentionPeriod: spec.backupRetentionDays,
              // Snapshots (the final one destroy keeps, by default) are the user's data, not k3sinfra's
              // resources: without our ownership tags, no sweep ever deletes them and destroy leaves nothing
              // tagged. They are found by name: <instance>-final-<timestamp>.
              CopyTagsToSnapshot: false,
              Port: 3306,
              Tags: tagList(ctx.tags, { Name: ctx.name }),
            },
            o,
          ),
        [password],
      );
    } catch (error) {
      // RDS has no idempotency token: an instance of this name is the one an earlier run made, if it is ours.
      if (!hasAwsCode(error, "DBInstanceAlreadyExistsFault", "DBInstanceAlreadyExists")) throw error;
      const existing = await this.#describe(rds, ctx.name, ctx);
      if (!existing) throw error;
      if (!hasTags(tagRecord(existing.TagList), ctx.tags))
        throw new ProviderError(
          `RDS instance ${ctx.name} exists but is not tagged as this cluster's; rename the cluster or remove the instance.`,
          { cause: error },
        );
      ctx.report(`adopting RDS instance ${ctx.name} (${existing.DBInstanceStatus})`);
    }
    const db = await this.#waitAvailable(rds, ctx.name, ctx, () => true);
    // An adopted instance may be on another group (or another family than the spec's): put it on ours.
    return this.#applyParameterGroup(rds, db, ctx, {
      groupReady: parameterFamily(db.EngineVersion ?? "") === family,
    });
  }

  async read(state: DatastoreState, ctx: ResourceContext): Promise<AwsDatastoreState | undefined> {
    // A state the sweep made for a parameter group alone is never recorded; nothing to read for it.
    if (isParameterGroupState(state)) return undefined;
    const rds = await this.#clients.rds();
    const db = await this.#describe(rds, state.name, ctx);
    return db && db.DBInstanceStatus !== "deleting" ? this.#withParameters(rds, db, ctx) : undefined;
  }

  async update(state: DatastoreState, spec: DatastoreSpec, ctx: ResourceContext): Promise<AwsDatastoreState> {
    const rds = await this.#clients.rds();
    const db = await this.#describe(rds, state.name, ctx);
    if (!db)
      throw new ProviderError(`RDS instance ${state.name} no longer exists; run apply to create it again.`);
    const instanceClass = this.#instanceClass(spec);
    const multiAz = this.#multiAz(spec);
    if ((db.AllocatedStorage ?? 0) > spec.storageGiB)
      throw new InvalidConfigError([
        {
          path: "datastore.storageGiB",
          message: `cannot shrink RDS storage from ${db.AllocatedStorage} to ${spec.storageGiB} GiB; RDS storage only grows`,
        },
      ]);
    // RDS rounds a storage increase under 10% up to 10%, which the next plan would read as a shrink back to
    // the configured size: ask for at least 10% more instead.
    // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html (AllocatedStorage)
    const current = db.AllocatedStorage ?? 0;
    const minimumGrowth = Math.ceil(current * 1.1);
    if (spec.storageGiB > current && spec.storageGiB < minimumGrowth)
      throw new InvalidConfigError([
        {
          path: "datastore.storageGiB",
          message: `RDS grows storage by at least 10%: from ${current} GiB, set ${minimumGrowth} GiB or more (or keep ${current})`,
        },
      ]);
    const change = {
      ...(db.DeletionProtection !== spec.deletionProtection && {
        DeletionProtection: spec.deletionProtection,
      }),
      ...(db.BackupRetentionPeriod !== spec.backupRetentionDays && {
        BackupRetentionPeriod: spec.backupRetentionDays,
      }),
      ...(db.AllocatedStorage !== spec.storageGiB && { AllocatedStorage: spec.storageGiB }),
      ...(db.MultiAZ !== multiAz && { MultiAZ: multiAz }),
      ...(db.DBInstanceClass !== instanceClass && { DBInstanceClass: instanceClass }),
    };
    if (Object.keys(change).length > 0) {
      ctx.report(`modifying RDS instance: ${Object.keys(change).join(", ")}`);
      await awsCall(`RDS ModifyDBInstance (${state.name})`, ctx, (o) =>
        rds.modifyDBInstance({ DBInstanceIdentifier: state.name, ApplyImmediately: true, ...change }, o),
      );
    }
    // Right after the call the instance may still say `available` with the change pending: wait until the
    // change shows, not just for the status.
    const settled = await this.#waitAvailable(rds, state.name, ctx, (d) => {
      const pending = d.PendingModifiedValues ?? {};
      return (
        d.DeletionProtection === spec.deletionProtection &&
        d.BackupRetentionPeriod === spec.backupRetentionDays &&
        (d.AllocatedStorage ?? 0) >= spec.storageGiB &&
        d.MultiAZ === multiAz &&
        d.DBInstanceClass === instanceClass &&
        pending.AllocatedStorage === undefined &&
        pending.DBInstanceClass === undefined &&
        pending.MultiAZ === undefined &&
        pending.BackupRetentionPeriod === undefined
      );
    });
    // Repairs the parameter group: created again if deleted, the parameter set again if changed by hand, the
    // instance put back on it if moved.
    return this.#applyParameterGroup(rds, settled, ctx, { groupReady: false });
  }

  /**
   * Deletes the instance, then its subnet group (datastore-sweep.ts), each after checking its owner. Like
   * Terraform's `skip_final_snapshot = false`, a final snapshot `<name>-final-<timestamp>` is taken unless
   * `options.aws.finalSnapshot` is false: the database holds the whole K3s cluster. Deletion protection is never turned off here; core does that through
   * `update` when the user allows it.
   */
  async delete(state: DatastoreState, ctx: ResourceContext): Promise<void> {
    const rds = await this.#clients.rds();
    // A parameter group the sweep found without its instance.
    if (isParameterGroupState(state)) return deleteParameterGroup(rds, state.name, ctx);
    const db = await this.#describe(rds, state.name, ctx);
    if (db) assertOwned(tagRecord(db.TagList), ctx, `RDS instance ${state.name}`);
    if (db && db.DBInstanceStatus !== "deleting") {
      if (db.DeletionProtection)
        throw new ProviderError(
          `RDS instance ${state.name} has deletion protection on. Set datastore.deletionProtection: false and run apply, then destroy again.`,
        );
      const finalSnapshot = this.#options.finalSnapshot !== false;
      const snapshotId = `${state.name}-final-${stamp(new Date())}`;
      await waitUntil(
        async () => {
          try {
            await awsCall(`RDS DeleteDBInstance (${state.name})`, ctx, (o) =>
              rds.deleteDBInstance(
                finalSnapshot
                  ? {
                      DBInstanceIdentifier: state.name,
                      SkipFinalSnapshot: false,
                      FinalDBSnapshotIdentifier: snapshotId,
                      DeleteAutomatedBackups: true,
                    }
                  : {
                      DBInstanceIdentifier: state.name,
                      SkipFinalSnapshot: true,
                      // Without a final snapshot, keep the automated backups until their retention ends.
                      DeleteAutomatedBackups: false,
                    },
                o,
              ),
            );
            return { state: "SUCCESS", value: undefined };
          } catch (error) {
            if (hasAwsCode(error, "DBInstanceNotFoundFault", "DBInstanceNotFound"))
              return { state: "SUCCESS", value: undefined };
            // Still creating or modifying: it can be deleted once that finishes.
            if (hasAwsCode(error, "InvalidDBInstanceStateFault", "InvalidDBInstanceState"))
              return { state: "RETRY", reason: "instance is busy" };
            throw error;
          }
        },
        {
          description: `RDS instance ${state.name} to accept deletion`,
          maxWaitMs: RDS_WAIT_MS,
          signal: ctx.signal,
          ...ctx.poll,
        },
      );
      ctx.report(
        finalSnapshot ? `deleting; final snapshot ${snapshotId}` : "deleting without a final snapshot",
      );
    }
    await waitUntil(
      async () => {
        const d = await this.#describe(rds, state.name, ctx);
        return d
          ? { state: "RETRY", reason: `instance is ${d.DBInstanceStatus}` }
          : { state: "SUCCESS", value: undefined };
      },
      {
        description: `RDS instance ${state.name} to be deleted`,
        maxWaitMs: RDS_WAIT_MS,
        signal: ctx.signal,
        ...ctx.poll,
      },
    );
    await deleteSubnetGroup(rds, state.name, ctx);
    // After the instance: RDS refuses to delete a group any instance (even a deleting one) still uses.
    await deleteParameterGroupsOf(rds, state.name, ctx);
  }

  /**
   * Tagged instances, and tagged DB subnet groups and DB parameter groups without an instance (what a failed
   * or interrupted create leaves).
   */
  async findByTags(tags: Tags, ctx: ResourceContext): Promise<DatastoreState[]> {
    const rds = await this.#clients.rds();
    // DescribeDBInstances cannot filter by tag (only db-cluster-id, db-instance-id, dbi-resource-id, domain,
    // engine: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html); its
    // TagList carries them, so filter here.
    const all = await collectPages(
      (Marker) => awsCall("RDS DescribeDBInstances", ctx, (o) => rds.describeDBInstances({ Marker }, o)),
      (p) => p.DBInstances,
      (p) => p.Marker,
    );
    const tagged = all.filter((db) => hasTags(tagRecord(db.TagList), tags));
    const instances = tagged.filter((db) => db.DBInstanceStatus !== "deleting").map(toState);
    // An instance's delete removes its subnet group (same name); a group whose instance is still deleting
    // is found alone, and its delete waits for the instance to go.
    const groups = (await findSubnetGroups(rds, tags, ctx)).filter(
      (g) => !instances.some((i) => i.name === g.name),
    );
    const parameterGroups = await findParameterGroups(
      rds,
      tags,
      instances.map((i) => i.name),
      ctx,
    );
    return [...instances, ...groups, ...parameterGroups];
  }

  #instanceClass(spec: DatastoreSpec): string {
    const cls =
      spec.instanceClass ?? this.#options.datastoreInstanceClass ?? datastoreInstanceClass(spec.size);
    if (!cls)
      throw new InvalidConfigError([
        { path: "datastore.size", message: "maps to no RDS class; set datastore.instanceClass" },
      ]);
    return cls;
  }

  #multiAz(spec: DatastoreSpec): boolean {
    return this.#options.multiAz ?? spec.highAvailability;
  }

  async #ensureSubnetGroup(rds: RDS, spec: DatastoreSpec, ctx: ResourceContext): Promise<void> {
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

  async #describe(rds: RDS, name: string, ctx: ResourceContext): Promise<DBInstance | undefined> {
    try {
      const out = await awsCall(`RDS DescribeDBInstances (${name})`, ctx, (o) =>
        rds.describeDBInstances({ DBInstanceIdentifier: name }, o),
      );
      return out.DBInstances?.[0];
    } catch (error) {
      if (hasAwsCode(error, "DBInstanceNotFoundFault", "DBInstanceNotFound")) return undefined;
      throw error;
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
  async #applyParameterGroup(
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
      live = await this.#waitAvailable(rds, id, ctx, (d) => groupOf(d).name === group);
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
      live = await this.#waitAvailable(
        rds,
        id,
        ctx,
        (d) => groupOf(d).name === group && groupOf(d).status === "in-sync",
      );
    }
    return this.#withParameters(rds, live, ctx);
  }

  /** The state of an instance, with its parameter group and whether TLS is required there now. */
  async #withParameters(rds: RDS, db: DBInstance, ctx: ResourceContext): Promise<AwsDatastoreState> {
    const { name, status } = groupOf(db);
    const on = name ? await secureTransportOn(rds, name, ctx) : false;
    return { ...toState(db), secureTransport: on === true && status !== "pending-reboot" };
  }

  #waitAvailable(
    rds: RDS,
    name: string,
    ctx: ResourceContext,
    settled: (db: DBInstance) => boolean,
  ): Promise<DBInstance> {
    return waitUntil(
      async () => {
        const db = await this.#describe(rds, name, ctx);
        const status = db?.DBInstanceStatus;
        if (!db) return { state: "RETRY", reason: "instance not visible yet" };
        if (status && FAILED.includes(status))
          return { state: "FAILURE", reason: `RDS instance ${name} is ${status}` };
        if (status === "available" && db.Endpoint?.Address && settled(db))
          return { state: "SUCCESS", value: db };
        return { state: "RETRY", reason: `RDS instance is ${status}` };
      },
      {
        description: `RDS instance ${name} to be available`,
        maxWaitMs: RDS_WAIT_MS,
        signal: ctx.signal,
        ...ctx.poll,
        onRetry: (n, reason) => {
          if (n % 10 === 1) ctx.report(`waiting: ${reason}`);
        },
      },
    );
  }
}

const toState = (db: DBInstance): AwsDatastoreState => ({
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

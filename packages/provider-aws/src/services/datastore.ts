import type { RDS } from "@aws-sdk/client-rds";
import {
  type DatastoreService,
  type DatastoreSpec,
  type DatastoreState,
  DeletionProtectedError,
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
import { applyParameterGroup, ensureSubnetGroup, toState, withParameters } from "./datastore-instance.js";
import {
  deleteParameterGroup,
  deleteParameterGroupsOf,
  ensureParameterGroup,
  findParameterGroups,
  isParameterGroupState,
  parameterFamily,
  parameterGroupName,
} from "./datastore-params.js";
import { deleteSubnetGroup, findSubnetGroups } from "./datastore-sweep.js";
import { describeInstance, RDS_WAIT_MS, waitAvailable } from "./datastore-wait.js";

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
/** What to do about an instance whose deletion protection refuses the delete. */
const protectedMessage = (name: string): string =>
  `RDS instance ${name} has deletion protection on. Set datastore.deletionProtection: false and run apply, then destroy again.`;

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
    await ensureSubnetGroup(rds, spec, ctx);
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
      const existing = await describeInstance(rds, ctx.name, ctx);
      if (!existing) throw error;
      if (!hasTags(tagRecord(existing.TagList), ctx.tags))
        throw new ProviderError(
          `RDS instance ${ctx.name} exists but is not tagged as this cluster's; rename the cluster or remove the instance.`,
          { cause: error },
        );
      ctx.report(`adopting RDS instance ${ctx.name} (${existing.DBInstanceStatus})`);
    }
    const db = await waitAvailable(rds, ctx.name, ctx, () => true);
    // An adopted instance may be on another group (or another family than the spec's): put it on ours.
    return applyParameterGroup(rds, db, ctx, {
      groupReady: parameterFamily(db.EngineVersion ?? "") === family,
    });
  }

  async read(state: DatastoreState, ctx: ResourceContext): Promise<AwsDatastoreState | undefined> {
    // A state the sweep made for a parameter group alone is never recorded; nothing to read for it.
    if (isParameterGroupState(state)) return undefined;
    const rds = await this.#clients.rds();
    const db = await describeInstance(rds, state.name, ctx);
    return db && db.DBInstanceStatus !== "deleting" ? withParameters(rds, db, ctx) : undefined;
  }

  async update(state: DatastoreState, spec: DatastoreSpec, ctx: ResourceContext): Promise<AwsDatastoreState> {
    const rds = await this.#clients.rds();
    const db = await describeInstance(rds, state.name, ctx);
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
    const settled = await waitAvailable(rds, state.name, ctx, (d) => {
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
    return applyParameterGroup(rds, settled, ctx, { groupReady: false });
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
    const db = await describeInstance(rds, state.name, ctx);
    if (db) assertOwned(tagRecord(db.TagList), ctx, `RDS instance ${state.name}`);
    if (db && db.DBInstanceStatus !== "deleting") {
      if (db.DeletionProtection) throw new DeletionProtectedError(protectedMessage(state.name));
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
            // Protection turned on since the describe above: RDS refuses with InvalidParameterCombination
            // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html#USER_DeletionProtection).
            if (
              hasAwsCode(error, "InvalidParameterCombination") &&
              /deletion protection/i.test(String((error as Error).message))
            )
              throw new DeletionProtectedError(protectedMessage(state.name), { cause: error });
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
        const d = await describeInstance(rds, state.name, ctx);
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
}

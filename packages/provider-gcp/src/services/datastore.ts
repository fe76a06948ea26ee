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
import { gcpCall, ONE_ATTEMPT } from "../call.js";
import type { GcpClients } from "../clients.js";
import { httpStatusOf } from "../errors.js";
import { hasLabels, toLabels } from "../labels.js";
import { sqlOp } from "./sql-ops.js";

/** A Cloud SQL instance as the client decodes it (the fields read here). */
interface Instance {
  name?: string | null;
  state?: string | number | null;
  databaseInstalledVersion?: string | null;
  ipAddresses?: { type?: string | number | null; ipAddress?: string | null }[] | null;
  serverCaCert?: { cert?: string | null } | null;
  settings?: {
    userLabels?: Record<string, string> | null;
    deletionProtectionEnabled?: { value?: boolean | null } | null;
    ipConfiguration?: { sslMode?: string | number | null } | null;
  } | null;
}

/** What the datastore service needs from the cluster config beyond the spec. */
export interface DatastoreSettings {
  /** The database K3s uses (`datastore.databaseName`), created with the instance. */
  readonly databaseName?: string | undefined;
}

const RUNNABLE = (s: Instance["state"]) => s === "RUNNABLE" || s === 2;
const ENCRYPTED_ONLY = (s: unknown) => s === "ENCRYPTED_ONLY" || s === 2;

/** Cloud SQL versions by the portable major version (https://cloud.google.com/sql/docs/mysql/db-versions). */
const VERSIONS: Readonly<Record<string, "MYSQL_8_0" | "MYSQL_8_4">> = {
  "8.0": "MYSQL_8_0",
  "8.4": "MYSQL_8_4",
};

/**
 * Enterprise edition custom machine: `db-custom-<vCPUs>-<MB>`, memory 0.9–6.5 GB per vCPU in 256 MB steps
 * (https://cloud.google.com/sql/docs/mysql/instance-settings#machine-type-2ndgen).
 */
export const sqlTier = (size: { vcpus: number; memoryGiB: number }): string => {
  const vcpus = Math.max(1, size.vcpus === 1 ? 1 : Math.ceil(size.vcpus / 2) * 2);
  const mb = Math.min(Math.max(Math.ceil((size.memoryGiB * 1024) / 256) * 256, 3840), vcpus * 6656);
  return `db-custom-${vcpus}-${mb}`;
};

const toState = (i: Instance, project: string): DatastoreState => {
  const ip =
    i.ipAddresses?.find((a) => a.type === "PRIVATE" || a.type === 3) ??
    i.ipAddresses?.find((a) => a.type === "PRIMARY" || a.type === 1);
  const version = (i.databaseInstalledVersion ?? "").replace(/^MYSQL_/, "").replace(/_/g, ".");
  const caBundle = i.serverCaCert?.cert ?? undefined;
  return {
    id: `projects/${project}/instances/${i.name}`,
    name: i.name ?? "",
    host: ip?.ipAddress ?? "",
    port: 3306,
    engineVersion: version,
    status: RUNNABLE(i.state) ? "available" : String(i.state ?? "unknown").toLowerCase(),
    deletionProtection: i.settings?.deletionProtectionEnabled?.value === true,
    tls: {
      required: ENCRYPTED_ONLY(i.settings?.ipConfiguration?.sslMode),
      ...(caBundle ? { caBundle } : {}),
    },
  };
};

/**
 * Cloud SQL for MySQL with a private IP on the cluster's network (which needs private services access; the
 * preflight says when it is missing), SSL required, automated backups and binary logs, deletion protection,
 * the admin user and the K3s database. One operation at a time per instance.
 */
export class GcpDatastoreService implements DatastoreService {
  readonly updatable = ["deletionProtection"] as const satisfies readonly (keyof DatastoreSpec)[];

  constructor(
    private readonly clients: GcpClients,
    private readonly settings: DatastoreSettings = {},
  ) {}

  native(): Promise<unknown> {
    return this.clients.sql("SqlInstancesServiceClient");
  }

  async create(spec: DatastoreSpec, ctx: ResourceContext): Promise<DatastoreState> {
    const project = await this.clients.project();
    const instances = await this.clients.sql("SqlInstancesServiceClient");
    const version = VERSIONS[spec.version];
    if (!version)
      throw new InvalidConfigError([
        { path: "datastore.version", message: `Cloud SQL offers MySQL ${Object.keys(VERSIONS).join(", ")}` },
      ]);
    const existing = await this.#get(project, ctx.name, ctx);
    if (existing && !hasLabels(existing.settings?.userLabels, { "k3sinfra:cluster": ctx.cluster }))
      throw new ProviderError(
        `Not touching Cloud SQL instance ${ctx.name}: its labels name another k3sinfra cluster (or none), not '${ctx.cluster}'.`,
      );
    const password = spec.password.reveal();
    if (!existing) {
      const network = `projects/${project}/global/networks/${spec.network.networkId.split("/").pop()}`;
      const days = Math.max(1, spec.backupRetentionDays);
      try {
        await sqlOp(
          this.clients,
          `Cloud SQL instances.insert (${ctx.name})`,
          ctx,
          () =>
            instances.insert(
              {
                project,
                body: {
                  name: ctx.name,
                  region: ctx.region,
                  databaseVersion: version,
                  rootPassword: password,
                  settings: {
                    tier: spec.instanceClass ?? sqlTier(spec.size),
                    edition: "ENTERPRISE",
                    availabilityType: spec.highAvailability ? "REGIONAL" : "ZONAL",
                    dataDiskSizeGb: { value: spec.storageGiB },
                    userLabels: toLabels(ctx.tags),
                    deletionProtectionEnabled: { value: spec.deletionProtection },
                    ipConfiguration: {
                      ipv4Enabled: { value: false },
                      privateNetwork: network,
                      sslMode: "ENCRYPTED_ONLY",
                    },
                    backupConfiguration: {
                      enabled: { value: true },
                      binaryLogEnabled: { value: true },
                      backupRetentionSettings: { retainedBackups: { value: days }, retentionUnit: "COUNT" },
                      transactionLogRetentionDays: { value: Math.min(days, 7) },
                    },
                  },
                },
              },
              ONE_ATTEMPT,
            ),
          [password],
        );
      } catch (error) {
        // Made by an earlier run (the name is Cloud SQL's idempotency key): adopted below.
        if (httpStatusOf(error) !== 409) throw error;
      }
    }
    const ready = await this.#waitRunnable(project, ctx.name, ctx);
    await this.#ensureDatabase(project, ctx);
    await this.#ensureUser(project, spec.username, password, ctx);
    return ready;
  }

  async read(state: DatastoreState, ctx: ResourceContext): Promise<DatastoreState | undefined> {
    const project = await this.clients.project();
    const found = await this.#get(project, state.name, ctx);
    return found ? toState(found, project) : undefined;
  }

  /** Deletion protection changes in place (instances.patch). */
  async update(state: DatastoreState, spec: DatastoreSpec, ctx: ResourceContext): Promise<DatastoreState> {
    const project = await this.clients.project();
    const instances = await this.clients.sql("SqlInstancesServiceClient");
    const found = await this.#get(project, state.name, ctx);
    if (!found) throw new ProviderError(`Cloud SQL instance ${state.name} no longer exists`);
    if ((found.settings?.deletionProtectionEnabled?.value === true) !== spec.deletionProtection)
      await sqlOp(this.clients, `Cloud SQL instances.patch (${state.name})`, ctx, () =>
        instances.patch(
          {
            project,
            instance: state.name,
            body: { settings: { deletionProtectionEnabled: { value: spec.deletionProtection } } },
          },
          ONE_ATTEMPT,
        ),
      );
    return this.#waitRunnable(project, state.name, ctx);
  }

  async delete(state: DatastoreState, ctx: ResourceContext): Promise<void> {
    const project = await this.clients.project();
    const found = await this.#get(project, state.name, ctx);
    if (!found) return;
    if (!hasLabels(found.settings?.userLabels, { "k3sinfra:cluster": ctx.cluster }))
      throw new ProviderError(
        `Not touching Cloud SQL instance ${state.name}: its labels name another k3sinfra cluster.`,
      );
    if (found.settings?.deletionProtectionEnabled?.value === true)
      throw new DeletionProtectedError(
        `Cloud SQL instance ${state.name} has deletion protection on. Set datastore.deletionProtection: false and run apply, then destroy again.`,
      );
    const instances = await this.clients.sql("SqlInstancesServiceClient");
    try {
      await sqlOp(this.clients, `Cloud SQL instances.delete (${state.name})`, ctx, () =>
        instances.delete({ project, instance: state.name }, ONE_ATTEMPT),
      );
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
    }
    if (ctx.waitForSync === false) return;
    await waitUntil(
      async () =>
        (await this.#get(project, state.name, ctx))
          ? { state: "RETRY", reason: `${state.name} is being deleted` }
          : { state: "SUCCESS", value: undefined },
      { ...ctx.poll, signal: ctx.signal, maxWaitMs: 30 * 60_000, description: `${state.name} to be deleted` },
    );
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<DatastoreState[]> {
    const project = await this.clients.project();
    const instances = await this.clients.sql("SqlInstancesServiceClient");
    const [list] = await gcpCall("Cloud SQL instances.list", ctx, () =>
      instances.list({ project }, ONE_ATTEMPT),
    );
    return ((list.items ?? []) as Instance[])
      .filter((i) => hasLabels(i.settings?.userLabels, tags))
      .map((i) => toState(i, project));
  }

  async #get(project: string, name: string, ctx: ResourceContext): Promise<Instance | undefined> {
    const instances = await this.clients.sql("SqlInstancesServiceClient");
    try {
      const [i] = await gcpCall(`Cloud SQL instances.get (${name})`, ctx, () =>
        instances.get({ project, instance: name }, ONE_ATTEMPT),
      );
      return i as Instance;
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async #waitRunnable(project: string, name: string, ctx: ResourceContext): Promise<DatastoreState> {
    return waitUntil(
      async () => {
        const i = await this.#get(project, name, ctx);
        if (!i) return { state: "FAILURE", reason: `Cloud SQL instance ${name} disappeared` };
        return RUNNABLE(i.state)
          ? { state: "SUCCESS", value: toState(i, project) }
          : { state: "RETRY", reason: `Cloud SQL instance ${name} is ${i.state}` };
      },
      {
        ...ctx.poll,
        signal: ctx.signal,
        // Cloud SQL creation takes minutes; a regional (HA) instance longer.
        maxWaitMs: 60 * 60_000,
        description: `Cloud SQL instance ${name} to be runnable`,
        onRetry: (_n, reason) => ctx.report(`waiting: ${reason}`),
      },
    );
  }

  async #ensureDatabase(project: string, ctx: ResourceContext): Promise<void> {
    const name = this.settings.databaseName ?? "k3s";
    const dbs = await this.clients.sql("SqlDatabasesServiceClient");
    const [list] = await gcpCall(`Cloud SQL databases.list (${ctx.name})`, ctx, () =>
      dbs.list({ project, instance: ctx.name }, ONE_ATTEMPT),
    );
    if ((list.items ?? []).some((d) => d.name === name)) return;
    try {
      await sqlOp(this.clients, `Cloud SQL databases.insert (${name})`, ctx, () =>
        dbs.insert(
          {
            project,
            instance: ctx.name,
            body: { name, charset: "utf8mb4", collation: "utf8mb4_0900_ai_ci" },
          },
          ONE_ATTEMPT,
        ),
      );
    } catch (error) {
      if (httpStatusOf(error) !== 409) throw error;
    }
  }

  async #ensureUser(project: string, user: string, password: string, ctx: ResourceContext): Promise<void> {
    const users = await this.clients.sql("SqlUsersServiceClient");
    const [list] = await gcpCall(`Cloud SQL users.list (${ctx.name})`, ctx, () =>
      users.list({ project, instance: ctx.name }, ONE_ATTEMPT),
    );
    if ((list.items ?? []).some((u) => u.name === user)) return;
    try {
      await sqlOp(
        this.clients,
        `Cloud SQL users.insert (${user})`,
        ctx,
        () =>
          users.insert(
            { project, instance: ctx.name, body: { name: user, host: "%", password } },
            ONE_ATTEMPT,
          ),
        [password],
      );
    } catch (error) {
      if (httpStatusOf(error) !== 409) throw error;
    }
  }
}

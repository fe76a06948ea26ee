import { readFile } from "node:fs/promises";
import {
  AlreadyExistsError,
  AuthFailedError,
  assessServer,
  type DatastoreService,
  type DatastoreSpec,
  type DatastoreState,
  DeletionProtectedError,
  datastoreError,
  InvalidConfigError,
  parseServerVersion,
  type ResourceContext,
  TAG_CLUSTER,
  type Tags,
} from "@k3sinfra/core";
import type { Connection } from "mysql2/promise";
import { tagsMatch } from "./hosts.js";
import type { DatastoreHostOptions } from "./options.js";

/** The ownership record inside the K3s database: which cluster made it, and what it created. */
export const OWNER_TABLE = "k3sinfra_owner";

interface Marker {
  readonly tags: Tags;
  /** The cluster's admin user, created by k3sinfra. */
  readonly admin: string;
  readonly createdDatabase: boolean;
  readonly deletionProtection: boolean;
}

/** What the cluster's MySQL objects are called (from the validated config). */
export interface DatastoreNames {
  readonly database: string;
  readonly k3sUser: string;
}

/**
 * An existing MySQL or MariaDB server. `create` checks the server (version, settings, TLS), creates the
 * cluster's database (or adopts an existing one, which delete then keeps) and the cluster's own admin user
 * (`datastore.username` with core's generated password) with every privilege on that database only, plus
 * `CREATE USER` so that server 0 can create the least-privilege K3s user (core's prepare SQL). It cannot read
 * `mysql.*` (other users' password hashes), which core's readiness check needs: the provider declares
 * `capabilities.datastoreCheck: "provider"` and does that check here instead (version, settings, TLS, the database).
 * The site's admin password (the environment variable `passwordEnv`) stays on this machine: it never goes
 * to a node. Ownership lives in a table in that database; `delete` drops only what it lists.
 */
export class HostsDatastoreService implements DatastoreService {
  readonly updatable = ["deletionProtection", "password"] as const;

  constructor(
    private readonly o: DatastoreHostOptions,
    private readonly names: DatastoreNames,
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  /** A connection as the site's admin, over verified TLS when `caFile` is set. */
  async connect(): Promise<Connection> {
    const password = this.env[this.o.passwordEnv];
    if (!password)
      throw new AuthFailedError(
        `the MySQL admin password is not set: export ${this.o.passwordEnv} (options.hosts.datastore.passwordEnv) with the password of ${this.o.adminUser}`,
      );
    const ca = this.o.caFile ? await readFile(this.o.caFile, "utf8") : undefined;
    const { createConnection } = await import("mysql2/promise");
    try {
      return await createConnection({
        host: this.o.host,
        port: this.o.port,
        user: this.o.adminUser,
        password,
        connectTimeout: 15_000,
        ...(ca ? { ssl: { ca, rejectUnauthorized: true } } : {}),
      });
    } catch (error) {
      throw datastoreError(error, {
        host: this.o.host,
        port: this.o.port,
        user: this.o.adminUser,
        action: "connecting as the admin user (options.hosts.datastore.adminUser)",
        secrets: [password],
      });
    }
  }

  private async using<T>(ctx: ResourceContext, fn: (c: Connection) => Promise<T>): Promise<T> {
    const call = async () => {
      const c = await this.connect();
      try {
        return await fn(c);
      } finally {
        await c.end().catch(() => c.destroy());
      }
    };
    return ctx.limit ? ctx.limit(call) : call();
  }

  /** The server's version and settings, checked as K3s needs them; throws on a server K3s cannot use. */
  async assess(c: Connection): Promise<{ version: string; warnings: string[] }> {
    const [rows] = await c.query("SELECT VERSION() AS v, @@GLOBAL.auto_increment_increment AS inc");
    const row = (rows as { v: string; inc: number }[])[0];
    const version = parseServerVersion(row?.v ?? "");
    if (!version)
      throw new InvalidConfigError([
        { path: "options.hosts.datastore.host", message: `answered with an unknown version '${row?.v}'` },
      ]);
    let snapshotIsolation: boolean | undefined;
    if (version.flavor === "mariadb") {
      const [vars] = await c.query("SHOW GLOBAL VARIABLES LIKE 'innodb_snapshot_isolation'");
      const value = (vars as { Value: string }[])[0]?.Value;
      snapshotIsolation = value === undefined ? undefined : value === "ON";
    }
    const { warnings, problems } = assessServer({
      version,
      autoIncrementIncrement: Number(row?.inc ?? 1),
      snapshotIsolation,
    });
    if (problems.length > 0)
      throw new InvalidConfigError(
        problems.map((message) => ({ path: "options.hosts.datastore.host", message })),
      );
    if (!this.o.caFile)
      warnings.push("no options.hosts.datastore.caFile: connections to the datastore are not verified TLS");
    return { version: version.raw, warnings };
  }

  private async marker(c: Connection): Promise<Marker | undefined> {
    const [t] = await c.query(
      "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
      [this.names.database, OWNER_TABLE],
    );
    if ((t as unknown[]).length === 0) return undefined;
    const [rows] = await c.query(
      `SELECT tags, admin_user, created_database, deletion_protection FROM \`${this.names.database}\`.${OWNER_TABLE} LIMIT 1`,
    );
    const r = (
      rows as { tags: string; admin_user: string; created_database: number; deletion_protection: number }[]
    )[0];
    if (!r) return undefined;
    return {
      tags: JSON.parse(r.tags) as Tags,
      admin: r.admin_user,
      createdDatabase: r.created_database === 1,
      deletionProtection: r.deletion_protection === 1,
    };
  }

  private async userExists(c: Connection, user: string): Promise<boolean> {
    const [rows] = await c.query("SELECT 1 FROM mysql.user WHERE User = ? AND Host = '%'", [user]);
    return (rows as unknown[]).length > 0;
  }

  private state(version: string, m: Marker): DatastoreState {
    return {
      id: `mysql://${this.o.host}:${this.o.port}/${this.names.database}`,
      name: this.names.database,
      host: this.o.host,
      port: this.o.port,
      engineVersion: version,
      status: "available",
      deletionProtection: m.deletionProtection,
      tls: { required: this.o.caFile !== undefined },
    };
  }

  async create(spec: DatastoreSpec, ctx: ResourceContext): Promise<DatastoreState> {
    const db = this.names.database;
    const admin = spec.username;
    return this.using(ctx, async (c) => {
      const { version, warnings } = await this.assess(c);
      for (const w of warnings) ctx.report(w);
      let m = await this.marker(c);
      if (m && m.tags[TAG_CLUSTER] !== ctx.tags[TAG_CLUSTER])
        throw new AlreadyExistsError(
          `database ${db} on ${this.o.host} belongs to cluster '${m.tags[TAG_CLUSTER]}': set datastore.databaseName to another name`,
        );
      if (!m) {
        // Users of the same names that k3sinfra did not create are someone else's: never take them over.
        for (const [user, path] of [
          [admin, "datastore.username"],
          [this.names.k3sUser, "datastore.k3sUsername"],
        ] as const)
          if (await this.userExists(c, user))
            throw new InvalidConfigError([
              {
                path,
                message: `MySQL user '${user}' already exists on ${this.o.host} and was not created by k3sinfra for this cluster: choose another name`,
              },
            ]);
        const [s] = await c.query("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", [db]);
        const existed = (s as unknown[]).length > 0;
        await c.query(`CREATE DATABASE IF NOT EXISTS \`${db}\``);
        await c.query(
          `CREATE TABLE IF NOT EXISTS \`${db}\`.${OWNER_TABLE} (tags TEXT NOT NULL, admin_user VARCHAR(32) NOT NULL, created_database TINYINT NOT NULL, deletion_protection TINYINT NOT NULL)`,
        );
        await c.query(`INSERT INTO \`${db}\`.${OWNER_TABLE} VALUES (?, ?, ?, ?)`, [
          JSON.stringify(ctx.tags),
          admin,
          existed ? 0 : 1,
          spec.deletionProtection ? 1 : 0,
        ]);
        m = { tags: ctx.tags, admin, createdDatabase: !existed, deletionProtection: spec.deletionProtection };
      }
      // Values are escaped by mysql2 (client-side placeholders); the password is in no message.
      await c.query("CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?", [admin, spec.password.reveal()]);
      await c.query("ALTER USER ?@'%' IDENTIFIED BY ?", [admin, spec.password.reveal()]);
      await c.query(`GRANT ALL PRIVILEGES ON \`${db}\`.* TO ?@'%' WITH GRANT OPTION`, [admin]);
      await c.query("GRANT CREATE USER ON *.* TO ?@'%'", [admin]);
      return this.state(version, m);
    });
  }

  async read(state: DatastoreState, ctx: ResourceContext): Promise<DatastoreState | undefined> {
    return this.using(ctx, async (c) => {
      const m = await this.marker(c);
      if (!m || m.tags[TAG_CLUSTER] !== ctx.tags[TAG_CLUSTER]) return undefined;
      const [rows] = await c.query("SELECT VERSION() AS v");
      return this.state((rows as { v: string }[])[0]?.v ?? state.engineVersion, m);
    });
  }

  async update(state: DatastoreState, spec: DatastoreSpec, ctx: ResourceContext): Promise<DatastoreState> {
    await this.using(ctx, async (c) => {
      await c.query(`UPDATE \`${this.names.database}\`.${OWNER_TABLE} SET deletion_protection = ?`, [
        spec.deletionProtection ? 1 : 0,
      ]);
    });
    return this.create(spec, ctx).then((s) => ({ ...s, id: state.id }));
  }

  async delete(_state: DatastoreState, ctx: ResourceContext): Promise<void> {
    const db = this.names.database;
    await this.using(ctx, async (c) => {
      const m = await this.marker(c);
      if (!m || m.tags[TAG_CLUSTER] !== ctx.cluster) return;
      if (m.deletionProtection)
        throw new DeletionProtectedError(
          `database ${db} on ${this.o.host} has deletion protection on: destroy with --allow-protected`,
        );
      // The K3s user was created by the cluster's admin (core's readiness check or server 0), under the marker.
      await c.query("DROP USER IF EXISTS ?@'%'", [this.names.k3sUser]);
      await c.query("DROP USER IF EXISTS ?@'%'", [m.admin]);
      if (m.createdDatabase) await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
      else await c.query(`DROP TABLE IF EXISTS \`${db}\`.${OWNER_TABLE}`);
    });
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<DatastoreState[]> {
    return this.using(ctx, async (c) => {
      const m = await this.marker(c);
      if (!m || !tagsMatch(m.tags, tags)) return [];
      const [rows] = await c.query("SELECT VERSION() AS v");
      return [this.state((rows as { v: string }[])[0]?.v ?? "", m)];
    });
  }

  async native(): Promise<unknown> {
    return this.o;
  }
}

import type { Connection, ConnectionOptions } from "mysql2/promise";
import { AbortedError, InvalidConfigError, K3sinfraError } from "../errors.js";
import type { Secret } from "../secret.js";
import { datastoreError } from "./errors.js";
import { assessServer, type DatastoreFlavor, parseServerVersion } from "./version.js";

/** What `checkDatastore` needs. */
export interface CheckDatastoreInput {
  readonly host: string;
  readonly port: number;
  /** The admin user the cloud created (it creates the K3s database and user). */
  readonly adminUser: string;
  readonly adminPassword: Secret;
  /** Database K3s uses, e.g. `k3s`. */
  readonly database: string;
  /** The least-privilege user K3s logs in as. */
  readonly k3sUser: string;
  readonly k3sPassword: Secret;
  /** Connect over TLS, verifying with `ca` (PEM) or the system CAs. */
  readonly tls?: { readonly ca?: string | undefined } | undefined;
  /** Per-connection timeout. Default 10 s. */
  readonly connectTimeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** What `checkDatastore` found and did. */
export interface DatastoreReport {
  /** `VERSION()` as reported. */
  readonly serverVersion: string;
  readonly flavor: DatastoreFlavor;
  /** Things to tell the user that do not stop K3s. */
  readonly warnings: readonly string[];
  /** What this run created (false: it existed already). */
  readonly created: { readonly database: boolean; readonly user: boolean };
  /** The existing user's password differed and was reset with ALTER USER. */
  readonly passwordReset: boolean;
  /** `GRANT ALL ON <database>.*` was missing and was added. */
  readonly grantAdded: boolean;
}

// The K3s user may connect from any node; the firewall, not the account, limits where from.
const USER_HOST = "%";
const IDENTIFIER = /^[A-Za-z0-9_]{1,64}$/;

/**
 * Checks that the datastore can serve K3s and prepares it, idempotently: connects as admin (TLS when
 * asked), checks the server version and settings (`assessServer`), creates the database and a user with
 * `ALL` on that database only if absent, resets the user's password only if it no longer works, and
 * proves the K3s user can log in to its database. A second run changes nothing.
 * Throws AuthFailedError, TimeoutError, ProviderError (unreachable, TLS) or InvalidConfigError
 * (unsupported server); no message contains a password. mysql2 is loaded only when this is called.
 */
export async function checkDatastore(input: CheckDatastoreInput): Promise<DatastoreReport> {
  for (const [path, value] of [
    ["datastore.databaseName", input.database],
    ["datastore.k3sUser", input.k3sUser],
  ] as const)
    if (!IDENTIFIER.test(value))
      throw new InvalidConfigError([{ path, message: "must be letters, digits or _" }]);
  const { createConnection } = await import("mysql2/promise");
  const secrets = [input.adminPassword.reveal(), input.k3sPassword.reveal()];
  const base: ConnectionOptions = {
    host: input.host,
    port: input.port,
    connectTimeout: input.connectTimeoutMs ?? 10_000,
    ...(input.tls ? { ssl: input.tls.ca ? { ca: input.tls.ca, rejectUnauthorized: true } : {} } : {}),
  };
  const open: Connection[] = [];
  const onAbort = () => {
    for (const c of open) c.destroy();
  };
  input.signal?.addEventListener("abort", onAbort, { once: true });
  const guard = () => {
    if (input.signal?.aborted) throw new AbortedError(undefined, { cause: input.signal.reason });
  };
  const connect = async (user: string, password: Secret, action: string, database?: string) => {
    guard();
    try {
      const c = await createConnection({ ...base, user, password: password.reveal(), database });
      open.push(c);
      guard();
      return c;
    } catch (e) {
      guard();
      throw datastoreError(e, { host: input.host, port: input.port, user, action, secrets });
    }
  };
  const run = async <T>(c: Connection, action: string, sql: string, values: unknown[] = []): Promise<T[]> => {
    guard();
    try {
      const [rows] = await c.query({ sql, values, timeout: 30_000 });
      return rows as T[];
    } catch (e) {
      guard();
      throw datastoreError(e, { host: input.host, port: input.port, user: input.adminUser, action, secrets });
    }
  };

  try {
    const admin = await connect(input.adminUser, input.adminPassword, "connecting as the admin user");
    const [info] = await run<{ v: string; inc: number | string }>(
      admin,
      "reading the server version",
      "SELECT VERSION() AS v, @@GLOBAL.auto_increment_increment AS inc",
    );
    const snapshot = await run<{ Value: string }>(
      admin,
      "reading innodb_snapshot_isolation",
      "SHOW GLOBAL VARIABLES LIKE 'innodb_snapshot_isolation'",
    );
    const version = parseServerVersion(String(info?.v ?? ""));
    if (!version)
      throw new InvalidConfigError([
        { path: "datastore.version", message: `unrecognised server version ${info?.v}` },
      ]);
    const assessment = assessServer({
      version,
      autoIncrementIncrement: Number(info?.inc),
      snapshotIsolation: snapshot[0] === undefined ? undefined : /^(on|1)$/i.test(snapshot[0].Value),
    });
    if (assessment.problems.length > 0)
      throw new InvalidConfigError(
        assessment.problems.map((message) => ({ path: "datastore.version", message })),
      );
    const warnings = [...assessment.warnings];

    const dbRows = await run(
      admin,
      "looking up the database",
      "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
      [input.database],
    );
    if (dbRows.length === 0)
      await run(admin, "creating the database", "CREATE DATABASE IF NOT EXISTS ??", [input.database]);

    const userRows = await run(
      admin,
      "looking up the K3s user",
      "SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?",
      [input.k3sUser, USER_HOST],
    );
    const k3sPassword = input.k3sPassword.reveal();
    if (userRows.length === 0)
      await run(admin, "creating the K3s user", "CREATE USER ?@? IDENTIFIED BY ?", [
        input.k3sUser,
        USER_HOST,
        k3sPassword,
      ]);

    const grants = await run<Record<string, string>>(
      admin,
      "reading the K3s user's grants",
      "SHOW GRANTS FOR ?@?",
      [input.k3sUser, USER_HOST],
    );
    const lines = grants.map((row) => Object.values(row)[0] ?? "");
    const onDb = new RegExp(`^GRANT ALL PRIVILEGES ON \`${input.database}\`\\.\\* TO `, "i");
    const grantAdded = !lines.some((l) => onDb.test(l));
    if (grantAdded)
      await run(admin, "granting the K3s user its database", "GRANT ALL PRIVILEGES ON ??.* TO ?@?", [
        input.database,
        input.k3sUser,
        USER_HOST,
      ]);
    // Grant lines can carry password hashes: report only their scope, never the text.
    if (lines.some((l) => /^GRANT (?!USAGE ON).* ON \*\.\* TO /i.test(l)))
      warnings.push(
        `user '${input.k3sUser}' has global privileges beyond ${input.database}.*; K3s needs only ALL on ${input.database}.*`,
      );

    let passwordReset = false;
    const asK3s = () =>
      connect(input.k3sUser, input.k3sPassword, "connecting as the K3s user", input.database);
    let k3s: Connection;
    try {
      k3s = await asK3s();
    } catch (e) {
      if (userRows.length === 0 || !K3sinfraError.is(e, "AuthFailed")) throw e;
      // The user exists with another password (e.g. a rotated secret): make it match.
      await run(admin, "resetting the K3s user's password", "ALTER USER ?@? IDENTIFIED BY ?", [
        input.k3sUser,
        USER_HOST,
        k3sPassword,
      ]);
      passwordReset = true;
      k3s = await asK3s();
    }
    await run(k3s, "checking the K3s user's database", "SELECT DATABASE() AS db");
    return {
      serverVersion: version.raw,
      flavor: version.flavor,
      warnings,
      created: { database: dbRows.length === 0, user: userRows.length === 0 },
      passwordReset,
      grantAdded,
    };
  } finally {
    input.signal?.removeEventListener("abort", onAbort);
    await Promise.all(open.map((c) => c.end().catch(() => c.destroy())));
  }
}

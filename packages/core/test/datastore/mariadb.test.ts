import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { createConnection } from "mysql2/promise";
import { afterAll, describe, expect, it } from "vitest";
import { type CheckDatastoreInput, checkDatastore } from "../../src/datastore/index.js";
import { AbortedError, AuthFailedError, InvalidConfigError, K3sinfraError } from "../../src/errors.js";
import { Secret } from "../../src/secret.js";

// A real server from .ci/mariadb.sh: eval "$(.ci/mariadb.sh)" sets these.
const url = process.env.K3SINFRA_TEST_MYSQL_URL;
const caFile = process.env.K3SINFRA_TEST_MYSQL_CA;
if (!url && process.env.CI)
  throw new Error('K3SINFRA_TEST_MYSQL_URL is required in CI: eval "$(.ci/mariadb.sh)"');
if (!url) console.warn("skipping the MariaDB tests: K3SINFRA_TEST_MYSQL_URL is unset (run .ci/mariadb.sh)");

const server = url ? new URL(url) : undefined;
const admin = {
  host: server?.hostname ?? "",
  port: Number(server?.port || 3306),
  user: decodeURIComponent(server?.username ?? ""),
  password: decodeURIComponent(server?.password ?? ""),
};
const suffix = randomBytes(4).toString("hex");
const made: { db: string; user: string }[] = [];

/** A fresh database and user name pair, dropped after the run. */
function names() {
  const n = { db: `k3st_${suffix}_${made.length}`, user: `k3st${suffix}${made.length}` };
  made.push(n);
  return n;
}

const k3sPassword = "K3sUserSecret" + suffix;
const inputFor = (
  n: { db: string; user: string },
  over: Partial<CheckDatastoreInput> = {},
): CheckDatastoreInput => ({
  host: admin.host,
  port: admin.port,
  adminUser: admin.user,
  adminPassword: new Secret(admin.password),
  database: n.db,
  k3sUser: n.user,
  k3sPassword: new Secret(k3sPassword),
  connectTimeoutMs: 5_000,
  ...over,
});

const asAdmin = () =>
  createConnection({ host: admin.host, port: admin.port, user: admin.user, password: admin.password });
const rejection = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
};

describe.skipIf(!url)("checkDatastore against a real MariaDB", () => {
  afterAll(async () => {
    const c = await asAdmin();
    for (const n of made) {
      await c.query("DROP DATABASE IF EXISTS ??", [n.db]);
      await c.query("DROP USER IF EXISTS ?@'%'", [n.user]);
    }
    await c.end();
  });

  it("creates the database and a user limited to it; a second run changes nothing", async () => {
    const n = names();
    const first = await checkDatastore(inputFor(n));
    expect(first.flavor).toBe("mariadb");
    expect(first.serverVersion).toMatch(/^\d+\.\d+\.\d+-MariaDB/);
    expect(first.created).toEqual({ database: true, user: true });
    expect(first.grantAdded).toBe(true);

    const c = await asAdmin();
    const hash = async () =>
      (await c.query("SELECT authentication_string AS h FROM mysql.user WHERE User = ?", [n.user]))[0];
    const before = await hash();
    const second = await checkDatastore(inputFor(n));
    expect(second).toMatchObject({
      created: { database: false, user: false },
      passwordReset: false,
      grantAdded: false,
    });
    expect(await hash()).toEqual(before);
    await c.end();
  });

  it("the K3s user can use its database and nothing else", async () => {
    const n = names();
    await checkDatastore(inputFor(n));
    const k3s = await createConnection({
      host: admin.host,
      port: admin.port,
      user: n.user,
      password: k3sPassword,
    });
    await k3s.query(`CREATE TABLE ${n.db}.kine_probe (id INT PRIMARY KEY)`);
    await k3s.query(`INSERT INTO ${n.db}.kine_probe VALUES (1)`);
    const [dbs] = await k3s.query("SHOW DATABASES");
    expect((dbs as { Database: string }[]).map((r) => r.Database).sort()).toEqual([
      "information_schema",
      n.db,
    ]);
    await expect(k3s.query(`CREATE DATABASE ${n.db}_other`)).rejects.toThrow(/denied/i);
    await expect(k3s.query("SELECT * FROM mysql.user")).rejects.toThrow(/denied/i);
    await k3s.end();
  });

  it("resets the password of an existing user when it no longer matches", async () => {
    const n = names();
    await checkDatastore(inputFor(n));
    const rotated = await checkDatastore(inputFor(n, { k3sPassword: new Secret("RotatedSecret" + suffix) }));
    expect(rotated).toMatchObject({ created: { database: false, user: false }, passwordReset: true });
    const login = (password: string) =>
      createConnection({ host: admin.host, port: admin.port, user: n.user, password }).then((c) => c.end());
    await expect(login(k3sPassword)).rejects.toThrow(/denied/i);
    await login("RotatedSecret" + suffix);
  });

  it("a wrong admin password is an AuthFailedError that does not contain the password", async () => {
    const wrong = "WrongAdminSecret" + suffix;
    const e = await rejection(checkDatastore(inputFor(names(), { adminPassword: new Secret(wrong) })));
    expect(e).toBeInstanceOf(AuthFailedError);
    expect(e.message).toContain(`${admin.host}:${admin.port}`);
    expect(e.message).not.toContain(wrong);
    expect(e.message).not.toContain(k3sPassword);
  });

  it("an unreachable port is a clear, retryable error naming host:port", async () => {
    const port = await freePort();
    const e = await rejection(checkDatastore(inputFor(names(), { host: "127.0.0.1", port })));
    expect(K3sinfraError.is(e, "ProviderError")).toBe(true);
    expect(e.message).toContain(`127.0.0.1:${port}`);
    expect(e.message).toMatch(/ECONNREFUSED.*Check that the server is running/);
    expect((e as K3sinfraError).retryable).toBe(true);
  });

  it("a server that never answers the handshake is a TimeoutError", async () => {
    const silent = await listen(createServer(() => {}));
    const port = (silent.address() as { port: number }).port;
    const e = await rejection(
      checkDatastore(inputFor(names(), { host: "127.0.0.1", port, connectTimeoutMs: 300 })),
    );
    silent.close();
    expect(K3sinfraError.is(e, "Timeout")).toBe(true);
    expect(e.message).toContain(`127.0.0.1:${port}`);
  });

  it("stops with AbortedError when the signal is aborted", async () => {
    const e = await rejection(checkDatastore(inputFor(names(), { signal: AbortSignal.abort() })));
    expect(e).toBeInstanceOf(AbortedError);
  });

  it("refuses a server with innodb_snapshot_isolation ON", async () => {
    const c = await asAdmin();
    const [[row]] = (await c.query("SHOW GLOBAL VARIABLES LIKE 'innodb_snapshot_isolation'")) as unknown as [
      { Value: string }[],
    ];
    if (!row) {
      await c.end();
      return expect.fail(
        "this MariaDB has no innodb_snapshot_isolation (need ≥ 10.6.18); use a newer server",
      );
    }
    await c.query("SET GLOBAL innodb_snapshot_isolation = ON");
    try {
      const e = await rejection(checkDatastore(inputFor(names())));
      expect(e).toBeInstanceOf(InvalidConfigError);
      expect(e.message).toMatch(/innodb_snapshot_isolation=ON/);
    } finally {
      await c.query("SET GLOBAL innodb_snapshot_isolation = ?", [row.Value]);
      await c.end();
    }
  });

  describe.skipIf(!caFile)("TLS", () => {
    it("connects with the CA bundle, and a wrong CA is a TLS error", async () => {
      const ca = readFileSync(caFile!, "utf8");
      const ok = await checkDatastore(inputFor(names(), { tls: { ca } }));
      expect(ok.created.database).toBe(true);
      const otherCa = readFileSync(new URL("./other-ca.pem", import.meta.url), "utf8");
      const e = await rejection(checkDatastore(inputFor(names(), { tls: { ca: otherCa } })));
      expect(K3sinfraError.is(e, "ProviderError")).toBe(true);
      expect(e.message).toMatch(/TLS to the datastore/);
    });
  });
});

const listen = (s: Server) => new Promise<Server>((resolve) => s.listen(0, "127.0.0.1", () => resolve(s)));
async function freePort(): Promise<number> {
  const s = await listen(createServer());
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

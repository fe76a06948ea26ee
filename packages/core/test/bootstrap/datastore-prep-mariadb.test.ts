import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { type Connection, createConnection } from "mysql2/promise";
import { afterAll, describe, expect, it } from "vitest";
import { type BootstrapInput, renderCloudInit } from "../../src/bootstrap/index.js";
import { Secret } from "../../src/secret.js";
import { input, TOKEN } from "./fixtures.js";
import { removeSandboxes, runBootstrap, type SandboxResult } from "./sandbox.js";

// The real server from .ci/mariadb.sh (eval "$(.ci/mariadb.sh)") and the real client from its packages.
const url = process.env.K3SINFRA_TEST_MYSQL_URL;
const caFile = process.env.K3SINFRA_TEST_MYSQL_CA;
if (!url && process.env.CI)
  throw new Error('K3SINFRA_TEST_MYSQL_URL is required in CI: eval "$(.ci/mariadb.sh)"');
if (!url) console.warn("skipping the bootstrap MariaDB tests: K3SINFRA_TEST_MYSQL_URL is unset");
const which = (tool: string) => {
  const r = spawnSync("/bin/sh", ["-c", `command -v ${tool}`]);
  return r.status === 0 ? r.stdout.toString().trim() : undefined;
};
const client = which("mariadb") ?? which("mysql");

afterAll(removeSandboxes);

describe.skipIf(!url)("server 0 prepares a real MariaDB with the real client over verified TLS", () => {
  const server = new URL(url ?? "mysql://x@127.0.0.1");
  const admin = {
    user: decodeURIComponent(server.username),
    password: decodeURIComponent(server.password),
  };
  const port = Number(server.port || 3306);
  const suffix = randomBytes(4).toString("hex");
  const names = { database: `k3sboot_${suffix}`, user: `k3sboot${suffix}` };
  const k3sPassword = `K3sBootSecret${suffix}`;
  const ca = caFile ? readFileSync(caFile, "utf8") : "";
  const node: BootstrapInput = {
    ...input(0, 2),
    datastore: {
      user: names.user,
      password: new Secret(k3sPassword),
      database: names.database,
      host: server.hostname,
      port,
      tls: { caUrl: "https://ca.example/datastore-ca.pem" },
      admin: { user: admin.user, password: new Secret(admin.password) },
    },
  };
  const boot = (caPem = ca) => runBootstrap(renderCloudInit(node), { realClient: client, caPem });
  const asAdmin = (): Promise<Connection> =>
    createConnection({ host: server.hostname, port, user: admin.user, password: admin.password });
  const adminCalls = (run: SandboxResult) =>
    run.log.filter((l) => l.startsWith("mysql --defaults-extra-file=") && l.includes("datastore-admin.cnf"));
  const noSecrets = (run: SandboxResult) => {
    for (const line of [...run.log, ...run.tools, ...run.env, ...run.stderr.split("\n")])
      for (const secret of [TOKEN, k3sPassword, admin.password]) expect(line).not.toContain(secret);
  };

  afterAll(async () => {
    if (!url) return;
    const c = await asAdmin();
    await c.query(`DROP USER IF EXISTS '${names.user}'@'%'`);
    await c.query(`DROP DATABASE IF EXISTS \`${names.database}\``);
    await c.end();
  });

  it("requires a client and a CA in CI", () => {
    expect(client, "install mariadb-client").toBeDefined();
    expect(ca).toContain("BEGIN CERTIFICATE");
  });

  it("creates the database and a user with ALL on it only, and the K3s user logs in over TLS", async () => {
    const run = boot();
    expect(run.stderr).toContain("preparing it as the admin user");
    expect(run.status).toBe(0);
    expect(adminCalls(run)).toHaveLength(1);
    noSecrets(run);
    const k3s = await createConnection({
      host: server.hostname,
      port,
      user: names.user,
      password: k3sPassword,
      database: names.database,
      ssl: { ca, rejectUnauthorized: true },
    });
    const [grants] = await k3s.query("SHOW GRANTS");
    const lines = (grants as Record<string, string>[]).map((r) => Object.values(r)[0] ?? "");
    await k3s.end();
    expect(lines.some((l) => l.startsWith(`GRANT ALL PRIVILEGES ON \`${names.database}\`.* TO`))).toBe(true);
    expect(lines.filter((l) => / ON \*\.\* /.test(l) && !l.startsWith("GRANT USAGE"))).toEqual([]);
  });

  it("a second boot only logs in as the K3s user", () => {
    const run = boot();
    expect(run.status).toBe(0);
    expect(adminCalls(run)).toEqual([]);
  });

  it("converges a changed password", async () => {
    const c = await asAdmin();
    await c.query(`ALTER USER '${names.user}'@'%' IDENTIFIED BY 'SomeOtherPassword9'`);
    await c.end();
    const run = boot();
    expect(run.status).toBe(0);
    expect(adminCalls(run)).toHaveLength(1);
    const k3s = await createConnection({
      host: server.hostname,
      port,
      user: names.user,
      password: k3sPassword,
      database: names.database,
    });
    await k3s.end();
  });

  it("refuses a server whose certificate the CA does not sign", () => {
    const other = spawnSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=other CA",
      "-keyout",
      "/dev/null",
    ]).stdout.toString();
    expect(other).toContain("BEGIN CERTIFICATE");
    const run = boot(other);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/ERROR 2026/);
    noSecrets(run);
  });
});

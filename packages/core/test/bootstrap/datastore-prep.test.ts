import { afterAll, describe, expect, it } from "vitest";
import { prepareSql } from "../../src/bootstrap/datastore-prep.js";
import {
  DATASTORE_CA_PATH,
  DATASTORE_PREP_PATHS,
  K3S_CONFIG_PATH,
  renderCloudInit,
} from "../../src/bootstrap/index.js";
import { ADMIN, ADMIN_PASSWORD, DB_PASSWORD, input, L7, TOKEN, withAdmin } from "./fixtures.js";
import { type FakeDatastore, removeSandboxes, runBootstrap, type SandboxResult } from "./sandbox.js";

afterAll(removeSandboxes);

const CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfakeRdsRegionalBundle\n-----END CERTIFICATE-----\n";
const HOST = { "datastore-host": "db.internal.example" };
const PREP_FILES = Object.values(DATASTORE_PREP_PATHS);
const SQL = prepareSql("k3s", DB_PASSWORD, "k3s");
const K3S_LOGIN = "-- as k3s\nSELECT 1\n";

/** Every argv, environment and message of the run is free of every secret. */
function expectNoSecrets(run: SandboxResult): void {
  for (const line of [...run.log, ...run.tools, ...run.env, ...run.stderr.split("\n")])
    for (const secret of [TOKEN, DB_PASSWORD, ADMIN_PASSWORD]) expect(line).not.toContain(secret);
}
const clientCalls = (run: SandboxResult) =>
  run.log.filter((l) => /^(mysql|mariadb) --defaults-extra-file=/.test(l));
const adminBlocks = (run: SandboxResult) => run.sql.split(`-- as ${ADMIN.user}\n`).length - 1;
const fresh = (over: Partial<FakeDatastore> = {}): FakeDatastore => ({ admin: ADMIN, ...over });

describe("server 0 prepares the datastore (sandbox with a faked client and server)", () => {
  const first = runBootstrap(renderCloudInit(withAdmin(0, 3, { loadBalancer: L7 })), {
    metadata: HOST,
    caPem: CA_PEM,
    aptFailures: 1,
    datastore: fresh({ refuseFirst: 2 }),
  });

  it("installs a client, retries while the server refuses, then runs the SQL as the admin", () => {
    expect(first.stderr).toContain("datastore not ready: ERROR 2003");
    expect(first.status).toBe(0);
    const installs = first.log.filter((l) => l.startsWith("apt-get install"));
    expect(installs).toHaveLength(2);
    expect(installs[1]).toMatch(/-y -q --no-install-recommends .* mysql-client$/);
    // Refused twice, K3s login denied (before any SQL), SQL as the admin, K3s login again.
    expect(first.sql).toBe(`-- as ${ADMIN.user}\n${SQL}${K3S_LOGIN}`);
    expect(first.datastore()).toEqual({
      users: { k3s: DB_PASSWORD },
      databases: ["k3s"],
      grants: { k3s: ["k3s"] },
    });
  });

  it("uses the downloaded CA and verifies the host name, with credentials only in 0600 option files", () => {
    expect(first.read(DATASTORE_CA_PATH)).toBe(CA_PEM);
    expect(first.mode(DATASTORE_CA_PATH)).toBe(0o644);
    const calls = clientCalls(first);
    expect(calls).toHaveLength(5);
    for (const call of calls) {
      expect(call).toMatch(
        /^mysql --defaults-extra-file=\S+\/datastore-(k3s|admin)\.cnf -h db\.internal\.example -P 3306 --protocol=TCP /,
      );
      expect(call).toContain(`--ssl-ca=${first.root}${DATASTORE_CA_PATH} --ssl-mode=VERIFY_IDENTITY`);
    }
    expect(first.optionFiles).toHaveLength(5);
    for (const entry of first.optionFiles) expect(entry).toMatch(/^600 \S+\/datastore-(k3s|admin)\.cnf$/);
    expect(first.optionFiles.filter((e) => e.endsWith("datastore-admin.cnf"))).toHaveLength(1);
  });

  it("removes the admin credentials and the SQL once the K3s user works", () => {
    for (const path of PREP_FILES) expect(first.exists(path)).toBe(false);
  });

  it("prepares before K3s is installed and started", () => {
    const lastClient = first.log.lastIndexOf(clientCalls(first).at(-1)!);
    const installer = first.log.findIndex((l) => l.startsWith("installer "));
    expect(lastClient).toBeGreaterThan(-1);
    expect(installer).toBeGreaterThan(lastClient);
    expect(first.read(K3S_CONFIG_PATH)).toContain(`datastore-cafile: "${DATASTORE_CA_PATH}"`);
  });

  it("never puts a secret in an argv, an environment or a message", () => {
    expect(first.tools.length).toBeGreaterThan(10); // the system tools were recorded too
    expect(first.env.length).toBeGreaterThan(5);
    expectNoSecrets(first);
  });

  it("on a later boot where the K3s user works, logs in only as that user", () => {
    const again = runBootstrap(renderCloudInit(withAdmin(0, 3, { loadBalancer: L7 })), {
      metadata: HOST,
      caPem: CA_PEM,
      client: "mysql",
      datastore: fresh(first.datastore()),
    });
    expect(again.status).toBe(0);
    expect(again.log.some((l) => l.startsWith("apt-get"))).toBe(false);
    expect(again.sql).toBe(K3S_LOGIN);
    expect(adminBlocks(again)).toBe(0);
    expect(again.optionFiles.some((e) => e.includes("admin"))).toBe(false);
    for (const path of PREP_FILES) expect(again.exists(path)).toBe(false);
    expectNoSecrets(again);
  });
});

describe("datastore preparation: variants and failures", () => {
  it("converges an existing user with another password (the SQL is idempotent)", () => {
    const run = runBootstrap(renderCloudInit(withAdmin(0, 2)), {
      metadata: HOST,
      caPem: CA_PEM,
      client: "mysql",
      datastore: fresh({ users: { k3s: "OldPassword1" }, databases: ["k3s"], grants: { k3s: ["k3s"] } }),
    });
    expect(run.status).toBe(0);
    expect(adminBlocks(run)).toBe(1);
    expect(run.datastore().users).toEqual({ k3s: DB_PASSWORD });
    expect(new Set(run.datastore().grants.k3s)).toEqual(new Set(["k3s"]));
    expect(SQL).toMatch(/^CREATE DATABASE IF NOT EXISTS `k3s`;\nCREATE USER IF NOT EXISTS 'k3s'@'%'/);
    expect(SQL).toContain("ALTER USER 'k3s'@'%' IDENTIFIED BY ");
    expect(SQL).toContain("GRANT ALL PRIVILEGES ON `k3s`.* TO 'k3s'@'%';");
    expect(SQL).not.toMatch(/ON \*\.\*|DROP|WITH GRANT OPTION/);
  });

  it("Debian: installs mariadb-client when mysql-client does not exist, and uses MariaDB's TLS flags", () => {
    const run = runBootstrap(renderCloudInit(withAdmin(0, 2)), {
      metadata: HOST,
      caPem: CA_PEM,
      aptPackages: ["mariadb-client"],
      datastore: fresh(),
    });
    expect(run.status).toBe(0);
    expect(run.log).toContain("apt-cache show mysql-client");
    expect(run.log.find((l) => l.startsWith("apt-get install"))).toMatch(/ mariadb-client$/);
    const calls = clientCalls(run);
    expect(calls.length).toBeGreaterThan(1);
    for (const call of calls) expect(call).toMatch(/^mariadb .* --ssl-ca=\S+ --ssl-verify-server-cert( |$)/);
    expect(run.datastore().users).toEqual({ k3s: DB_PASSWORD });
    expectNoSecrets(run);
  });

  it("with an inline CA verifies against it; without TLS passes no CA", () => {
    const ca = "-----BEGIN CERTIFICATE-----\nMIIBinline\n-----END CERTIFICATE-----\n";
    const inline = runBootstrap(renderCloudInit(withAdmin(0, 2, {}, { caBundle: ca })), {
      metadata: HOST,
      client: "mysql",
      datastore: fresh(),
    });
    expect(inline.status).toBe(0);
    expect(inline.log.some((l) => l.startsWith("curl") && l.includes(".pem"))).toBe(false);
    expect(clientCalls(inline).filter((c) => c.includes("--ssl-ca="))).toHaveLength(3);
    const plain = runBootstrap(renderCloudInit(withAdmin(0, 2, {}, null)), {
      metadata: HOST,
      client: "mysql",
      datastore: fresh(),
    });
    expect(plain.status).toBe(0);
    for (const call of clientCalls(plain)) {
      expect(call).not.toContain("--ssl-ca");
      expect(call).toContain("--ssl-mode=PREFERRED");
    }
  });

  it("retries the CA download", () => {
    const run = runBootstrap(renderCloudInit(withAdmin(0, 2)), {
      metadata: HOST,
      caPem: CA_PEM,
      caFailures: 2,
      client: "mysql",
      datastore: fresh(),
    });
    expect(run.status).toBe(0);
    expect(run.log.filter((l) => l.startsWith("curl") && l.includes("-bundle.pem"))).toHaveLength(3);
    expect(run.read(DATASTORE_CA_PATH)).toBe(CA_PEM);
  });

  it("stops at once with the client's error when the admin is denied, keeping the files for a rerun", () => {
    const run = runBootstrap(renderCloudInit(withAdmin(0, 2)), {
      metadata: HOST,
      caPem: CA_PEM,
      client: "mysql",
      datastore: { admin: { user: ADMIN.user, password: "SomethingElse0" } },
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(
      "preparing the datastore as the admin user failed: ERROR 1045 (28000): Access denied for user 'k3sadmin'",
    );
    expect(run.log.some((l) => l.startsWith("sleep"))).toBe(false);
    expect(run.log.some((l) => l.startsWith("installer"))).toBe(false);
    for (const path of PREP_FILES) expect(run.exists(path)).toBe(true);
    expectNoSecrets(run);
  });

  it("never echoes SQL from an error: the message is cut before `near`", () => {
    // An SQL file the fake server rejects: its error quotes the statement, which could hold a password.
    const broken = renderCloudInit(withAdmin(0, 2)).replace(
      "CREATE DATABASE IF NOT EXISTS",
      "CREATE DATABASE IF NOT EXISTZ",
    );
    const bad = runBootstrap(broken, { metadata: HOST, caPem: CA_PEM, client: "mysql", datastore: fresh() });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("ERROR 1064 (42000): You have an error in your SQL syntax");
    expect(bad.stderr).not.toContain("EXISTZ");
  });

  it("gives up after datastoreSeconds when the server never accepts connections", () => {
    const run = runBootstrap(renderCloudInit(withAdmin(0, 2, { waits: { datastoreSeconds: 20 } })), {
      metadata: HOST,
      caPem: CA_PEM,
      client: "mysql",
      datastore: fresh({ refuseFirst: 1000 }),
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(
      "the datastore at db.internal.example:3306 did not accept connections within 20 s",
    );
    expect(run.log.some((l) => l.startsWith("installer"))).toBe(false);
  });

  it("servers after the first never prepare, and their user data does not depend on the admin", () => {
    for (const index of [1, 2]) {
      const withIt = renderCloudInit(withAdmin(index, 3));
      const { admin: _admin, ...noAdmin } = withAdmin(index, 3).datastore;
      expect(withIt).toBe(renderCloudInit({ ...withAdmin(index, 3), datastore: noAdmin }));
      expect(withIt).not.toContain(ADMIN_PASSWORD);
      for (const path of PREP_FILES) expect(withIt).not.toContain(path);
      const run = runBootstrap(withIt, {
        metadata: { ...HOST, "first-server-ip": "10.0.1.10" },
        firstServerUpAfterSleeps: 0,
        caPem: CA_PEM,
        client: "mysql",
        datastore: fresh(),
      });
      expect(run.status).toBe(0);
      expect(clientCalls(run)).toEqual([]);
      expect(run.log.some((l) => l.startsWith("apt-"))).toBe(false);
      expect(run.sql).toBe("");
    }
  });

  it("server 0 without admin credentials does not prepare", () => {
    const run = runBootstrap(renderCloudInit(input(0, 2)), {
      metadata: HOST,
      client: "mysql",
      datastore: fresh(),
    });
    expect(run.status).toBe(0);
    expect(clientCalls(run)).toEqual([]);
  });
});

import { v1 } from "@google-cloud/sql";
import { createConnection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { clientOptions, NO_RETRY, PROJECT, protoFields, raw, startGcp } from "./gcp-helpers.js";

const instanceBody = (name: string, privateNetwork?: string) => ({
  name,
  region: "us-central1",
  databaseVersion: "MYSQL_8_4" as const,
  settings: {
    tier: "db-custom-2-7680",
    edition: "ENTERPRISE" as const,
    userLabels: { owner: "t" },
    deletionProtectionEnabled: { value: true },
    ipConfiguration: privateNetwork
      ? { ipv4Enabled: { value: false }, privateNetwork, sslMode: "ENCRYPTED_ONLY" as const }
      : { ipv4Enabled: { value: true }, sslMode: "ENCRYPTED_ONLY" as const },
  },
});

describe("gcp emulator: Cloud SQL", () => {
  let e: Emulator;
  let now = 1_700_000_000_000;
  let instances: v1.SqlInstancesServiceClient;
  let users: v1.SqlUsersServiceClient;
  let ops: v1.SqlOperationsServiceClient;
  beforeAll(async () => {
    e = await startGcp({
      timeScale: 1,
      clock: () => now,
      fixtures: { gcp: { privateServicesAccess: true } },
    });
    // The client defaults to gRPC: REST needs fallback (it then sends enums as numbers).
    const o = { ...clientOptions(e), fallback: true };
    instances = new v1.SqlInstancesServiceClient(o);
    users = new v1.SqlUsersServiceClient(o);
    ops = new v1.SqlOperationsServiceClient(o);
  });
  afterAll(() => e.stop());

  it("creates over minutes: PENDING_CREATE with its operation RUNNING, then RUNNABLE with a private IP and a CA", async () => {
    const [op] = await instances.insert(
      { project: PROJECT, body: instanceBody("db-1", `projects/${PROJECT}/global/networks/default`) },
      NO_RETRY,
    );
    now += 60_000;
    expect((await ops.get({ project: PROJECT, operation: op.name! }, NO_RETRY))[0].status).toBe("RUNNING");
    const [pending] = await instances.get({ project: PROJECT, instance: "db-1" }, NO_RETRY);
    expect(pending.state).toBe("PENDING_CREATE");
    expect(pending.databaseVersion).toBe("MYSQL_8_4");
    now += 10 * 60_000;
    expect((await ops.get({ project: PROJECT, operation: op.name! }, NO_RETRY))[0].status).toBe("DONE");
    const [ready] = await instances.get({ project: PROJECT, instance: "db-1" }, NO_RETRY);
    expect(ready.state).toBe("RUNNABLE");
    expect(ready.ipAddresses?.[0]).toMatchObject({ type: "PRIVATE" });
    expect(ready.serverCaCert?.cert).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(ready.settings?.deletionProtectionEnabled?.value).toBe(true);
  });

  it("one operation at a time per instance: a second mutation meanwhile is 409 operationInProgress", async () => {
    await users.insert(
      { project: PROJECT, instance: "db-1", body: { name: "a", host: "%", password: "pw-one" } },
      NO_RETRY,
    );
    const second = await users
      .insert(
        { project: PROJECT, instance: "db-1", body: { name: "b", host: "%", password: "pw-two" } },
        NO_RETRY,
      )
      .catch((err: unknown) => err);
    expect(second).toMatchObject({ httpStatusCode: 409 });
    expect(String((second as Error).message)).toMatch(/another operation was already in progress/);
    now += 10_000;
    await users.insert(
      { project: PROJECT, instance: "db-1", body: { name: "b", host: "%", password: "pw-two" } },
      NO_RETRY,
    );
  });

  it("a private IP needs private services access on the network; a duplicate name is 409", async () => {
    await expect(
      instances.insert({ project: PROJECT, body: instanceBody("db-1") }, NO_RETRY),
    ).rejects.toMatchObject({ httpStatusCode: 409 });
    const other = "k3sinfra-other";
    const res = await raw(e, "POST", `/v1/projects/${other}/instances`, {
      ...instanceBody("db-2", `projects/${other}/global/networks/default`),
    });
    // Another project: the fixture peering is on every project's default network, so this one is accepted;
    // a network without it is refused.
    expect(res.status).toBe(200);
    await raw(e, "POST", `/compute/v1/projects/${other}/global/networks`, {
      name: "bare",
      autoCreateSubnetworks: true,
    });
    const bare = await raw(e, "POST", `/v1/projects/${other}/instances`, {
      ...instanceBody("db-3", `projects/${other}/global/networks/bare`),
    });
    expect(bare.status).toBe(400);
    expect(JSON.stringify(bare.json)).toMatch(/SERVICE_NETWORKING_NOT_ENABLED/);
  });

  it("deletion protection refuses delete until a patch turns it off", async () => {
    now += 10_000;
    await expect(instances.delete({ project: PROJECT, instance: "db-1" }, NO_RETRY)).rejects.toMatchObject({
      httpStatusCode: 400,
    });
    await instances.patch(
      {
        project: PROJECT,
        instance: "db-1",
        body: { settings: { deletionProtectionEnabled: { value: false } } },
      },
      NO_RETRY,
    );
    now += 120_000;
    const [after] = await instances.get({ project: PROJECT, instance: "db-1" }, NO_RETRY);
    expect(after.settings?.deletionProtectionEnabled?.value).toBe(false);
    expect(after.settings?.userLabels).toEqual({ owner: "t" });
    await instances.delete({ project: PROJECT, instance: "db-1" }, NO_RETRY);
    now += 120_000;
    await expect(instances.get({ project: PROJECT, instance: "db-1" }, NO_RETRY)).rejects.toMatchObject({
      httpStatusCode: 404,
    });
  });

  it("answers only with fields the package's protos define (DatabaseInstance, Operation)", async () => {
    const fields = protoFields("@google-cloud/sql", ["google", "cloud", "sql", "v1"]);
    const op = await raw(
      e,
      "POST",
      `/v1/projects/${PROJECT}/instances`,
      instanceBody("db-9", `projects/${PROJECT}/global/networks/default`),
    );
    const inst = await raw(e, "GET", `/v1/projects/${PROJECT}/instances/db-9`);
    for (const [message, body] of [
      ["Operation", op.json],
      ["DatabaseInstance", inst.json],
      ["Settings", inst.json.settings as Record<string, unknown>],
    ] as const)
      expect(
        Object.keys(body).filter((k) => !fields(message).has(k)),
        message,
      ).toEqual([]);
  });
});

// Runs when a MariaDB admin URL is given (CI: eval "$(.ci/mariadb.sh)").
const url = process.env.K3SINFRA_TEST_MYSQL_URL;

describe.skipIf(!url)("Cloud SQL backed by a real MariaDB", () => {
  it("gives each instance a local port where its users log in and its databases exist", async () => {
    const u = new URL(url!);
    let clock = 1_700_000_000_000;
    const e = await startGcp({
      timeScale: 1,
      clock: () => clock,
      fixtures: { gcp: { privateServicesAccess: true } },
      mysql: {
        host: u.hostname,
        port: Number(u.port || 3306),
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
      },
    });
    try {
      const o = { ...clientOptions(e), fallback: true };
      const instances = new v1.SqlInstancesServiceClient(o);
      const dbs = new v1.SqlDatabasesServiceClient(o);
      const users = new v1.SqlUsersServiceClient(o);
      await instances.insert(
        { project: PROJECT, body: instanceBody("real-db", `projects/${PROJECT}/global/networks/default`) },
        NO_RETRY,
      );
      const item = e.inventory({ cloud: "gcp" }).find((i) => i.type === "sql-instance");
      expect(item?.connect?.host).toBe("127.0.0.1");
      clock += 10 * 60_000;
      const password = `Pw${Date.now()}x`;
      await users.insert(
        { project: PROJECT, instance: "real-db", body: { name: "gcpadmin", host: "%", password } },
        NO_RETRY,
      );
      clock += 10_000;
      await dbs.insert({ project: PROJECT, instance: "real-db", body: { name: "k3s_gcp" } }, NO_RETRY);
      const conn = await createConnection({
        host: "127.0.0.1",
        port: item!.connect!.port,
        user: "gcpadmin",
        password,
      });
      try {
        const [rows] = await conn.query("SHOW DATABASES LIKE 'k3s_gcp'");
        expect(rows).toHaveLength(1);
      } finally {
        await conn.end();
      }
    } finally {
      await e.stop();
    }
  });
});

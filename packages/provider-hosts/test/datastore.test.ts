// The datastore on the real MariaDB CI starts: checks, the cluster's database and admin user, ownership,
// deletion protection, and delete dropping exactly what was created.

import { readFileSync } from "node:fs";
import { type DatastoreSpec, Secret } from "@k3sinfra/core";
import { createConnection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostsDatastoreService } from "../src/datastore.js";
import { ctxFor } from "./helpers.js";

const URL_ = process.env.K3SINFRA_TEST_MYSQL_URL;
const CA = process.env.K3SINFRA_TEST_MYSQL_CA;

describe.skipIf(!URL_)(
  `hosts datastore on a real MariaDB (${URL_ ? "K3SINFRA_TEST_MYSQL_URL" : 'needs K3SINFRA_TEST_MYSQL_URL: eval "$(sh .ci/mariadb.sh)"'})`,
  () => {
    const url = new URL(URL_ ?? "mysql://x:y@127.0.0.1:1");
    const env = { HOSTS_TEST_MYSQL_PASSWORD: decodeURIComponent(url.password) };
    const options = {
      host: url.hostname,
      port: Number(url.port),
      adminUser: decodeURIComponent(url.username),
      passwordEnv: "HOSTS_TEST_MYSQL_PASSWORD",
      ...(CA ? { caFile: CA } : {}),
    };
    const id = process.pid;
    const names = { database: `k3s_ds_${id}`, k3sUser: `k3s_ds_${id}` };
    const spec: DatastoreSpec = {
      engine: "mysql",
      version: "8.4",
      size: { vcpus: 1, memoryGiB: 1 },
      storageGiB: 20,
      highAvailability: false,
      deletionProtection: true,
      backupRetentionDays: 1,
      username: `k3sadm_${id}`.slice(0, 16),
      password: new Secret("Cluster0Admin0Passw0rd"),
      network: {} as never,
    };
    const admin = () =>
      createConnection({
        host: options.host,
        port: options.port,
        user: options.adminUser,
        password: env.HOSTS_TEST_MYSQL_PASSWORD,
        ...(CA ? { ssl: { ca: readFileSync(CA, "utf8") } } : {}),
      });
    const inventory = async () => {
      const c = await admin();
      const [users] = await c.query("SELECT User, Host FROM mysql.user ORDER BY User, Host");
      const [dbs] = await c.query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME");
      await c.end();
      return JSON.stringify([users, dbs]);
    };
    let before = "";
    beforeAll(async () => {
      before = await inventory();
    });
    afterAll(async () => {
      const c = await admin();
      await c.query(`DROP DATABASE IF EXISTS ${names.database}`);
      await c.query(`DROP USER IF EXISTS '${names.k3sUser}'@'%', '${spec.username}'@'%'`);
      await c.end();
    });

    it("names the environment variable when the admin password is missing", async () => {
      const svc = new HostsDatastoreService(options, names, {});
      await expect(svc.create(spec, ctxFor("ds-a", "datastore"))).rejects.toThrow(
        "export HOSTS_TEST_MYSQL_PASSWORD",
      );
    });

    it("creates, adopts, protects, and deletes only what it created", async () => {
      const svc = new HostsDatastoreService(options, names, env);
      const ctx = ctxFor("ds-a", "datastore");
      const state = await svc.create(spec, ctx);
      expect(state).toMatchObject({
        host: options.host,
        port: options.port,
        status: "available",
        deletionProtection: true,
        tls: { required: CA !== undefined },
      });
      expect(await svc.create(spec, ctx)).toEqual(state);
      expect(await new HostsDatastoreService(options, names, env).read(state, ctx)).toEqual(state);
      // The cluster's admin can do what server 0 does (core's prepare SQL): create the K3s user on its database.
      const cluster = await createConnection({
        host: options.host,
        port: options.port,
        user: spec.username,
        password: spec.password.reveal(),
        ...(CA ? { ssl: { ca: readFileSync(CA, "utf8") } } : {}),
      });
      await cluster.query(
        `CREATE USER IF NOT EXISTS '${names.k3sUser}'@'%' IDENTIFIED BY 'K3sUser0Passw0rd'`,
      );
      await cluster.query(`GRANT ALL PRIVILEGES ON \`${names.database}\`.* TO '${names.k3sUser}'@'%'`);
      // …and nothing beyond its database: no other user's password hash.
      await expect(cluster.query("SELECT * FROM mysql.user")).rejects.toThrow(/denied/);
      await cluster.end();
      expect((await svc.findByTags({ "k3sinfra:cluster": "ds-a" }, ctx)).map((s) => s.id)).toEqual([
        state.id,
      ]);
      expect(await svc.findByTags({ "k3sinfra:cluster": "ds-b" }, ctx)).toEqual([]);
      // Another cluster pointed at the same database is refused.
      await expect(svc.create(spec, ctxFor("ds-b", "datastore"))).rejects.toThrow(
        "belongs to cluster 'ds-a'",
      );
      await expect(svc.delete(state, ctx)).rejects.toThrow("deletion protection");
      const off = await svc.update(state, { ...spec, deletionProtection: false }, ctx);
      expect(off.deletionProtection).toBe(false);
      await svc.delete(off, ctx);
      await svc.delete(off, ctx);
      expect(await svc.read(off, ctx)).toBeUndefined();
      expect(await inventory()).toBe(before);
    });

    it("adopts a database it did not create and keeps it on delete", async () => {
      const c = await admin();
      await c.query(`CREATE DATABASE ${names.database}`);
      await c.end();
      const svc = new HostsDatastoreService(options, names, env);
      const ctx = ctxFor("ds-c", "datastore");
      const state = await svc.create({ ...spec, deletionProtection: false }, ctx);
      await svc.delete(state, ctx);
      const after = JSON.parse(await inventory()) as [unknown, { SCHEMA_NAME: string }[]];
      expect(after[1].map((d) => d.SCHEMA_NAME)).toContain(names.database);
      expect(JSON.stringify(after[0])).not.toContain(spec.username);
    });
  },
);

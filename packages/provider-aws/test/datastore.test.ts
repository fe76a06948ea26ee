import type { RDS } from "@aws-sdk/client-rds";
import {
  DatastoreService,
  type DatastoreSpec,
  NetworkService,
  type NetworkState,
  resourceTags,
  Secret,
} from "@k3sinfra/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsClients } from "../src/index.js";
import { type Harness, networkSpec, startHarness } from "./helpers.js";

const PASSWORD = "Zq8mT3vR9kW2pL7xN4cB6hJ1sD5fG0aE";
let h: Harness;
let network: NetworkState;
beforeAll(async () => {
  h = await startHarness({}, "dbs");
  network = await h.container().resolve(NetworkService).create(networkSpec("l4"), h.ctx("network"));
});
afterAll(() => h?.stop());

const spec = (over: Partial<DatastoreSpec> = {}): DatastoreSpec => ({
  engine: "mysql",
  version: "8.4",
  size: { vcpus: 2, memoryGiB: 8 },
  storageGiB: 20,
  highAvailability: false,
  deletionProtection: true,
  backupRetentionDays: 7,
  username: "k3sadmin",
  password: new Secret(PASSWORD),
  network,
  ...over,
});
const rds = async () => (await h.container().resolve(AwsClients).rds()) as RDS;
const dbItems = (resource: string) =>
  h.emulator.inventory({ tags: resourceTags(h.cluster, resource) }).filter((i) => i.service === "rds");

describe("AwsDatastoreService", () => {
  it("creates a private, encrypted RDS MySQL in a subnet group, idempotently and adopting after a crash", async () => {
    const reports: string[] = [];
    const svc = h.container().resolve(DatastoreService);
    const db = await svc.create(spec(), h.ctx("datastore", { report: (m) => reports.push(m) }));
    expect(db).toMatchObject({
      name: "k3s-dbs-db",
      port: 3306,
      status: "available",
      deletionProtection: true,
    });
    expect(db.host).toBeTruthy();
    expect(db.engineVersion).toMatch(/^8\.4/);
    const out = await (await rds()).describeDBInstances({ DBInstanceIdentifier: db.name });
    const live = out.DBInstances?.[0];
    expect(live).toMatchObject({
      Engine: "mysql",
      DBInstanceClass: "db.m6g.large",
      PubliclyAccessible: false,
      StorageEncrypted: true,
      StorageType: "gp3",
      MultiAZ: false,
      BackupRetentionPeriod: 7,
      AllocatedStorage: 20,
      MasterUsername: "k3sadmin",
      DBName: "k3s",
    });
    expect(live?.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId)).toEqual([network.groups.datastore]);
    expect(live?.DBSubnetGroup?.DBSubnetGroupName).toBe(db.name);
    expect(live?.DBSubnetGroup?.Subnets?.map((s) => s.SubnetIdentifier).sort()).toEqual(
      network.subnets.map((s) => s.id).sort(),
    );
    expect(reports.join("\n")).not.toContain(PASSWORD);

    const before = dbItems("datastore")
      .map((i) => i.id)
      .sort();
    const again = await h.container().resolve(DatastoreService).create(spec(), h.ctx("datastore"));
    expect(again.id).toBe(db.id);
    expect(
      dbItems("datastore")
        .map((i) => i.id)
        .sort(),
    ).toEqual(before);
  });

  it("refuses to adopt an instance of the same name that another cluster owns", async () => {
    const other = { ...h.ctx("datastore"), tags: resourceTags("someone-else", "datastore") };
    await expect(h.container().resolve(DatastoreService).create(spec(), other)).rejects.toThrow(
      /not tagged as this cluster's/,
    );
  });

  it("updates protection, backups, storage and Multi-AZ in place", async () => {
    const svc = h.container().resolve(DatastoreService);
    const db = await svc.create(spec(), h.ctx("db4"));
    const updated = await svc.update!(
      db,
      spec({ backupRetentionDays: 14, storageGiB: 40, highAvailability: true }),
      h.ctx("db4"),
    );
    expect(updated.status).toBe("available");
    const live = (await (await rds()).describeDBInstances({ DBInstanceIdentifier: db.name }))
      .DBInstances?.[0];
    expect(live).toMatchObject({
      BackupRetentionPeriod: 14,
      AllocatedStorage: 40,
      MultiAZ: true,
      DeletionProtection: true,
    });
    await expect(svc.update!(updated, spec({ storageGiB: 30 }), h.ctx("db4"))).rejects.toThrow(
      /cannot shrink/,
    );
    // RDS would round 40 → 41 up to 44, and the next apply would then see a shrink back to 41.
    await expect(svc.update!(updated, spec({ storageGiB: 41 }), h.ctx("db4"))).rejects.toThrow(
      /at least 10%: from 40 GiB, set 44 GiB/,
    );
    await svc.update!(updated, spec({ storageGiB: 44, highAvailability: true }), h.ctx("db4"));
    const grown = (await (await rds()).describeDBInstances({ DBInstanceIdentifier: db.name }))
      .DBInstances?.[0];
    expect(grown?.AllocatedStorage).toBe(44);
  });

  it("puts an adopted subnet group back on the network's subnets", async () => {
    const client = await rds();
    const svc = h.container().resolve(DatastoreService);
    const db = await svc.create(spec(), h.ctx("datastore"));
    const wider = await h.container().resolve(NetworkService).update!(
      network,
      { ...networkSpec("l4"), zones: ["us-east-1a", "us-east-1b", "us-east-1c"] },
      h.ctx("network"),
    );
    await svc.create(spec({ network: wider }), h.ctx("datastore"));
    const subnets = async () =>
      (
        (await client.describeDBSubnetGroups({ DBSubnetGroupName: db.name })).DBSubnetGroups?.[0]?.Subnets ??
        []
      )
        .map((s) => s.SubnetIdentifier)
        .sort();
    expect(await subnets()).toEqual(wider.subnets.map((s) => s.id).sort());
    await svc.create(spec(), h.ctx("datastore"));
    expect(await subnets()).toEqual(network.subnets.map((s) => s.id).sort());
  });

  it("finds the datastore by tags", async () => {
    const svc = h.container().resolve(DatastoreService);
    const db = await svc.create(spec(), h.ctx("datastore"));
    expect(
      (await svc.findByTags(resourceTags(h.cluster, "datastore"), h.ctx("datastore"))).map((d) => d.id),
    ).toEqual([db.id]);
    expect(await svc.findByTags(resourceTags("nobody", "datastore"), h.ctx("datastore"))).toEqual([]);
  });

  it("refuses to delete while protected; deletes after update, with a final snapshot, then the subnet group", async () => {
    const svc = h.container().resolve(DatastoreService);
    const db = await svc.create(spec(), h.ctx("datastore"));
    await expect(svc.delete(db, h.ctx("datastore"))).rejects.toThrow(/has deletion protection on/);
    expect(await svc.read(db, h.ctx("datastore"))).toMatchObject({ status: "available" });
    const off = await svc.update!(db, spec({ deletionProtection: false }), h.ctx("datastore"));
    expect(off.deletionProtection).toBe(false);
    const reports: string[] = [];
    await svc.delete(off, h.ctx("datastore", { report: (m) => reports.push(m) }));
    expect(reports.some((m) => /final snapshot k3s-dbs-db-final-\d{8}-\d{6}$/.test(m))).toBe(true);
    await svc.delete(off, h.ctx("datastore"));
    expect(await svc.read(off, h.ctx("datastore"))).toBeUndefined();
    const groups = await (await rds())
      .describeDBSubnetGroups({ DBSubnetGroupName: db.name })
      .then((o) => o.DBSubnetGroups ?? [])
      .catch((e: { name?: string }) => (e.name === "DBSubnetGroupNotFoundFault" ? [] : Promise.reject(e)));
    expect(groups).toEqual([]);
    expect(dbItems("datastore").filter((i) => i.type !== "db-snapshot")).toEqual([]);
  });

  it("deletes without a final snapshot when options.aws.finalSnapshot is false", async () => {
    const svc = h.container({ finalSnapshot: false }).resolve(DatastoreService);
    const db = await svc.create(spec({ deletionProtection: false }), h.ctx("db2"));
    const reports: string[] = [];
    await svc.delete(db, h.ctx("db2", { report: (m) => reports.push(m) }));
    expect(reports).toContain("deleting without a final snapshot");
    expect(dbItems("db2")).toEqual([]);
  });

  it("keeps the password out of errors", async () => {
    const svc = h.container().resolve(DatastoreService);
    // An invalid username makes RDS refuse the call; the message must not carry the password.
    const error = await svc.create(spec({ username: "1bad" }), h.ctx("db3")).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /RDS CreateDBInstance \(k3s-dbs-db3\) failed: InvalidParameterValue/,
    );
    expect(`${(error as Error).message} ${JSON.stringify(error)}`).not.toContain(PASSWORD);
  });
});

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
import type { AwsDatastoreState } from "../src/services/datastore.js";
import { type Harness, networkSpec, startHarness } from "./helpers.js";

const PASSWORD = "Zq8mT3vR9kW2pL7xN4cB6hJ1sD5fG0aE";
let h: Harness;
let network: NetworkState;
beforeAll(async () => {
  h = await startHarness({}, "pgs");
  network = await h.container().resolve(NetworkService).create(networkSpec("l4"), h.ctx("network"));
});
afterAll(() => h?.stop());

const spec = (over: Partial<DatastoreSpec> = {}): DatastoreSpec => ({
  engine: "mysql",
  version: "8.4",
  size: { vcpus: 2, memoryGiB: 8 },
  storageGiB: 20,
  highAvailability: false,
  deletionProtection: false,
  backupRetentionDays: 7,
  username: "k3sadmin",
  password: new Secret(PASSWORD),
  network,
  ...over,
});
const rds = async () => (await h.container().resolve(AwsClients).rds()) as RDS;
const svc = () => h.container().resolve(DatastoreService);
/** The instance's group and its apply status, as DescribeDBInstances reports them. */
const membership = async (id: string) =>
  (await (await rds()).describeDBInstances({ DBInstanceIdentifier: id })).DBInstances?.[0]?.DBParameterGroups;
/** The user-set parameters of a group, through the SDK. */
const userParameters = async (group: string) =>
  Object.fromEntries(
    (
      (await (await rds()).describeDBParameters({ DBParameterGroupName: group, Source: "user" }))
        .Parameters ?? []
    ).map((p) => [p.ParameterName, p.ParameterValue]),
  );
const groupsOf = (resource: string) =>
  h.emulator
    .inventory({ tags: resourceTags(h.cluster, resource) })
    .filter((i) => i.type === "db-parameter-group")
    .map((i) => i.id)
    .sort();

describe("the datastore's DB parameter group", () => {
  it("creates the instance on a tagged group of its family with require_secure_transport on", async () => {
    const calls = (op: string) => h.emulator.callCounts()[`rds:${op}`] ?? 0;
    const db = (await svc().create(spec(), h.ctx("datastore"))) as AwsDatastoreState;
    // On the group from CreateDBInstance on: never moved to it, never rebooted.
    expect([calls("ModifyDBInstance"), calls("RebootDBInstance")]).toEqual([0, 0]);
    const group = "k3s-pgs-db-params-mysql8-4";
    expect(db).toMatchObject({ parameterGroup: group, secureTransport: true, status: "available" });
    expect(await membership(db.name)).toEqual([
      { DBParameterGroupName: group, ParameterApplyStatus: "in-sync" },
    ]);
    expect(await userParameters(group)).toEqual({ require_secure_transport: "1" });
    const described = (await (await rds()).describeDBParameterGroups({ DBParameterGroupName: group }))
      .DBParameterGroups?.[0];
    expect(described?.DBParameterGroupFamily).toBe("mysql8.4");
    const tags = (await (await rds()).listTagsForResource({ ResourceName: described!.DBParameterGroupArn! }))
      .TagList;
    expect(Object.fromEntries((tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject(
      resourceTags(h.cluster, "datastore"),
    );
    expect(groupsOf("datastore")).toEqual([group]);
    // Idempotent: a second create changes nothing and makes no second group.
    const before = h.emulator.callCounts()["rds:ModifyDBParameterGroup"];
    const again = await svc().create(spec(), h.ctx("datastore"));
    expect(again).toEqual(db);
    expect(h.emulator.callCounts()["rds:ModifyDBParameterGroup"]).toBe(before);
    expect(groupsOf("datastore")).toEqual([group]);
    // Found by tags: the instance alone (its group goes with it).
    expect(
      (await svc().findByTags(resourceTags(h.cluster, "datastore"), h.ctx("datastore"))).map((s) => s.id),
    ).toEqual([db.id]);
  });

  it("MySQL 8.0 gets a group of family mysql8.0", async () => {
    const db = (await svc().create(spec({ version: "8.0" }), h.ctx("db80"))) as AwsDatastoreState;
    expect(db.parameterGroup).toBe("k3s-pgs-db80-params-mysql8-0");
    const described = (
      await (await rds()).describeDBParameterGroups({ DBParameterGroupName: db.parameterGroup })
    ).DBParameterGroups?.[0];
    expect(described?.DBParameterGroupFamily).toBe("mysql8.0");
    expect(await userParameters(db.parameterGroup!)).toEqual({ require_secure_transport: "1" });
    await svc().delete(db, h.ctx("db80"));
    expect(groupsOf("db80")).toEqual([]);
  });

  it("shows a parameter turned off by hand as drift, and update turns it on again", async () => {
    const db = (await svc().create(spec(), h.ctx("drift1"))) as AwsDatastoreState;
    const client = await rds();
    await client.modifyDBParameterGroup({
      DBParameterGroupName: db.parameterGroup,
      Parameters: [
        { ParameterName: "require_secure_transport", ParameterValue: "0", ApplyMethod: "immediate" },
      ],
    });
    const read = (await svc().read(db, h.ctx("drift1"))) as AwsDatastoreState;
    expect(read).toMatchObject({ parameterGroup: db.parameterGroup, secureTransport: false });
    const repaired = (await svc().update!(read, spec(), h.ctx("drift1"))) as AwsDatastoreState;
    expect(repaired.secureTransport).toBe(true);
    expect(await userParameters(db.parameterGroup!)).toEqual({ require_secure_transport: "1" });
    expect(await svc().read(db, h.ctx("drift1"))).toEqual(repaired);
  });

  it("puts an instance moved to another group back on its own and reboots it to apply it", async () => {
    const db = (await svc().create(spec(), h.ctx("drift2"))) as AwsDatastoreState;
    const client = await rds();
    await client.modifyDBInstance({
      DBInstanceIdentifier: db.name,
      DBParameterGroupName: "default.mysql8.4",
      ApplyImmediately: true,
    });
    const read = (await svc().read(db, h.ctx("drift2"))) as AwsDatastoreState;
    expect(read).toMatchObject({ parameterGroup: "default.mysql8.4", secureTransport: false });
    const reboots = h.emulator.callCounts()["rds:RebootDBInstance"] ?? 0;
    const reports: string[] = [];
    const repaired = (await svc().update!(
      read,
      spec(),
      h.ctx("drift2", { report: (m) => reports.push(m) }),
    )) as AwsDatastoreState;
    expect(repaired).toMatchObject({
      parameterGroup: db.parameterGroup,
      secureTransport: true,
      status: "available",
    });
    expect(await membership(db.name)).toEqual([
      { DBParameterGroupName: db.parameterGroup, ParameterApplyStatus: "in-sync" },
    ]);
    expect(h.emulator.callCounts()["rds:RebootDBInstance"]).toBe(reboots + 1);
    expect(reports.join("\n")).toMatch(/rebooting RDS instance k3s-pgs-drift2 to apply DB parameter group/);
  });

  it("after a crash right after CreateDBParameterGroup, the next create adopts the group and finishes", async () => {
    const crash = new AbortController();
    const ctx = h.ctx("crash1", {
      signal: crash.signal,
      // The report right after CreateDBParameterGroup succeeded: the process dies there.
      report: (m) => {
        if (m.startsWith("setting require_secure_transport")) crash.abort(new Error("simulated crash"));
      },
    });
    await expect(svc().create(spec(), ctx)).rejects.toThrow();
    const group = "k3s-pgs-crash1-params-mysql8-4";
    expect(groupsOf("crash1")).toEqual([group]);
    expect(await userParameters(group)).toEqual({});
    expect(h.emulator.inventory().some((i) => i.type === "db-instance" && i.id === "k3s-pgs-crash1")).toBe(
      false,
    );

    const reports: string[] = [];
    const db = (await svc().create(
      spec(),
      h.ctx("crash1", { report: (m) => reports.push(m) }),
    )) as AwsDatastoreState;
    expect(reports).toContain(`adopting DB parameter group ${group}`);
    expect(db).toMatchObject({ parameterGroup: group, secureTransport: true });
    expect(await userParameters(group)).toEqual({ require_secure_transport: "1" });
    expect(groupsOf("crash1")).toEqual([group]);
    await svc().delete(db, h.ctx("crash1"));
    expect(groupsOf("crash1")).toEqual([]);
  });

  it("refuses a group of its name that another cluster owns, or of another family", async () => {
    const client = await rds();
    const foreign = resourceTags("someone-else", "datastore");
    await client.createDBParameterGroup({
      DBParameterGroupName: "k3s-pgs-taken-params-mysql8-4",
      DBParameterGroupFamily: "mysql8.4",
      Description: "not ours",
      Tags: Object.entries(foreign).map(([Key, Value]) => ({ Key, Value })),
    });
    await expect(svc().create(spec(), h.ctx("taken"))).rejects.toThrow(
      /Not touching DB parameter group k3s-pgs-taken-params-mysql8-4: its ownership tags name k3sinfra cluster 'someone-else'/,
    );
    const ours = resourceTags(h.cluster, "fam");
    await client.createDBParameterGroup({
      DBParameterGroupName: "k3s-pgs-fam-params-mysql8-4",
      DBParameterGroupFamily: "mysql8.0",
      Description: "wrong family",
      Tags: Object.entries(ours).map(([Key, Value]) => ({ Key, Value })),
    });
    await expect(svc().create(spec(), h.ctx("fam"))).rejects.toThrow(
      /DB parameter group k3s-pgs-fam-params-mysql8-4 is of family mysql8.0, not mysql8.4/,
    );
    // Neither got an instance.
    expect(h.emulator.inventory().filter((i) => i.type === "db-instance" && /taken|fam/.test(i.id))).toEqual(
      [],
    );
  });
});

describe("destroy", () => {
  it("deletes the group after the instance, and the sweep finds and deletes an orphan group", async () => {
    const db = (await svc().create(spec(), h.ctx("gone"))) as AwsDatastoreState;
    expect(groupsOf("gone")).toEqual([db.parameterGroup]);
    await svc().delete(db, h.ctx("gone"));
    expect(groupsOf("gone")).toEqual([]);
    expect(h.emulator.inventory({ tags: resourceTags(h.cluster, "gone") })).toEqual([]);

    // An orphan: what a crash after CreateDBParameterGroup leaves.
    const crash = new AbortController();
    await expect(
      svc().create(
        spec(),
        h.ctx("orphan", {
          signal: crash.signal,
          report: (m) => {
            if (m.startsWith("setting require_secure_transport")) crash.abort(new Error("simulated crash"));
          },
        }),
      ),
    ).rejects.toThrow();
    const tags = resourceTags(h.cluster, "orphan");
    const found = await svc().findByTags(tags, h.ctx("orphan"));
    // The subnet group and the parameter group, each alone.
    expect(found.map((s) => [s.name, s.status]).sort()).toEqual([
      ["k3s-pgs-orphan", "orphaned"],
      ["k3s-pgs-orphan-params-mysql8-4", "orphaned"],
    ]);
    for (const s of found) await svc().delete(s, h.ctx("orphan"));
    expect(h.emulator.inventory({ tags })).toEqual([]);
    expect(await svc().findByTags(tags, h.ctx("orphan"))).toEqual([]);
  });

  it("a group that disappears between the sweep's find and its delete is not a failure", async () => {
    const crash = new AbortController();
    await expect(
      svc().create(
        spec(),
        h.ctx("vanish", {
          signal: crash.signal,
          report: (m) => {
            if (m.startsWith("setting require_secure_transport")) crash.abort(new Error("simulated crash"));
          },
        }),
      ),
    ).rejects.toThrow();
    const tags = resourceTags(h.cluster, "vanish");
    const found = await svc().findByTags(tags, h.ctx("vanish"));
    const orphan = found.find((s) => s.name === "k3s-pgs-vanish-params-mysql8-4");
    expect(orphan).toBeDefined();
    // Another process (another cluster's destroy, a person) deletes it first.
    await (await rds()).deleteDBParameterGroup({ DBParameterGroupName: orphan!.name });
    await expect(svc().delete(orphan!, h.ctx("vanish"))).resolves.toBeUndefined();
    expect(await svc().read(orphan!, h.ctx("vanish"))).toBeUndefined();
    for (const s of found.filter((x) => x !== orphan)) await svc().delete(s, h.ctx("vanish"));
    expect(h.emulator.inventory({ tags })).toEqual([]);
  });
});

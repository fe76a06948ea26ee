import { type DatastoreSpec, K3sinfraError, resourceTags, Secret } from "@k3sinfra/core";
import { VirtualClock } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, networkSpec, startHarness } from "./helpers.js";

// With a MariaDB admin URL (CI: eval "$(.ci/mariadb.sh)"), the emulated server is backed by a real one.
const url = process.env.K3SINFRA_TEST_MYSQL_URL;
const mysql = url
  ? (() => {
      const u = new URL(url);
      return {
        host: u.hostname,
        port: Number(u.port || 3306),
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
      };
    })()
  : undefined;

let h: Harness;
beforeAll(async () => {
  h = await startHarness(mysql ? { mysql } : {}, "dsx");
});
afterAll(() => h?.stop());

const spec = (network: DatastoreSpec["network"], over: Partial<DatastoreSpec> = {}): DatastoreSpec => ({
  engine: "mysql",
  version: "8.0",
  size: { vcpus: 2, memoryGiB: 8 },
  storageGiB: 20,
  highAvailability: true,
  deletionProtection: true,
  backupRetentionDays: 7,
  username: "k3sadmin",
  password: new Secret("Abcdefgh12345678Abcdefgh12345678"),
  network,
  ...over,
});

describe("AzureDatastoreService on the emulator", () => {
  it("MySQL 8.4 is refused before any call: api-version 2021-05-01 offers 8.0.21 only", async () => {
    const network = await h.services().network!.create(networkSpec(), h.ctx("network"));
    const before = h.emulator.requestLog().length;
    await expect(
      h.services().datastore!.create(spec(network, { version: "8.4" }), h.ctx("datastore")),
    ).rejects.toThrow(/datastore\.version/);
    expect(h.emulator.requestLog().length).toBe(before);
  });

  it("a zone-redundant flexible server with private access, TLS required and the k3s database; idempotent, adopted, protected, deleted", async () => {
    const svc = h.services();
    const network = await svc.network!.create(networkSpec(), h.ctx("network"));
    const ctx = h.ctx("datastore");
    const a = await svc.datastore!.create(spec(network), ctx);
    expect(a).toMatchObject({
      host: "k3s-dsx-db.mysql.database.azure.com",
      port: 3306,
      engineVersion: "8.0.21",
      status: "ready",
      deletionProtection: true,
      tls: { required: true },
    });
    const inv = h.emulator.inventory({ cloud: "azure", tags: resourceTags("dsx", "datastore") });
    expect(inv.map((i) => i.type).sort()).toEqual([
      "Microsoft.DBforMySQL/flexibleServers",
      "Microsoft.Network/privateDnsZones",
      "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
    ]);
    const all = h.emulator.inventory({ cloud: "azure" });
    expect(all.find((i) => i.type.endsWith("/databases"))?.name).toBe("k3s");
    expect(all.find((i) => i.name === "require_secure_transport")).toBeDefined();
    if (mysql) expect(inv.find((i) => i.type.endsWith("flexibleServers"))?.connect?.host).toBe("127.0.0.1");

    // A second create, and a fresh process's, adopt the server.
    expect((await svc.datastore!.create(spec(network), ctx)).id).toBe(a.id);
    expect((await h.services().datastore!.create(spec(network), ctx)).id).toBe(a.id);
    expect(h.emulator.inventory({ cloud: "azure", tags: resourceTags("dsx", "datastore") })).toHaveLength(3);
    expect((await svc.datastore!.findByTags(resourceTags("dsx", "datastore"), ctx)).map((s) => s.id)).toEqual(
      [a.id],
    );
    expect(await svc.datastore!.findByTags(resourceTags("other", "datastore"), ctx)).toEqual([]);

    await expect(svc.datastore!.delete(a, ctx)).rejects.toSatisfy((e) =>
      K3sinfraError.is(e, "DeletionProtected"),
    );
    const off = await svc.datastore!.update!(a, spec(network, { deletionProtection: false }), ctx);
    expect(off.deletionProtection).toBe(false);
    await svc.datastore!.delete(off, ctx);
    await svc.datastore!.delete(off, ctx);
    expect(await svc.datastore!.read(off, ctx)).toBeUndefined();
    expect(h.emulator.inventory({ cloud: "azure", tags: resourceTags("dsx", "datastore") })).toEqual([]);
    await svc.network!.delete(network, h.ctx("network"));
    expect(h.emulator.inventory({ cloud: "azure", tags: { "k3sinfra:cluster": "dsx" } })).toEqual([]);
  });
});

describe("long-running operations on a busy subscription", () => {
  let busy: Harness;
  // Emulated time passes only while the client waits: the database's operation is still running when the
  // throttled status requests arrive, however loaded the machine.
  const clock = new VirtualClock();
  const poll = { minDelayMs: 2_000, maxDelayMs: 30_000, clock };
  beforeAll(async () => {
    // The second, third and fourth status requests throttled: the first is the server's (its begin polls once),
    // the second the one the database's begin sends, the next ones its polling.
    busy = await startHarness(
      {
        ...(mysql ? { mysql } : {}),
        timeScale: 1,
        virtualClock: clock,
        faults: [2, 3, 4].map((atCall) => ({
          cloud: "azure",
          service: "dbformysql",
          operation: "operations_Get",
          kind: "throttle" as const,
          atCall,
        })),
      },
      "dsb",
    );
  });
  afterAll(() => busy?.stop());

  it("a throttled status request is retried alone: the database is asked for once", async () => {
    const svc = busy.services();
    const network = await svc.network!.create(networkSpec(), busy.ctx("network", { poll }));
    const ctx = busy.ctx("datastore", { poll });
    const ds = await svc.datastore!.create(spec(network, { deletionProtection: false }), ctx);
    expect(ds.status).toBe("ready");
    const log = busy.emulator.requestLog().filter((e) => e.service === "dbformysql");
    expect(log.filter((e) => e.operation === "operations_Get" && e.status === 429)).toHaveLength(3);
    expect(log.filter((e) => e.operation === "databases_CreateOrUpdate")).toHaveLength(1);
    expect(log.filter((e) => e.operation === "flexibleServers_CreateOrUpdate")).toHaveLength(1);
    await svc.datastore!.delete(ds, ctx);
    await svc.network!.delete(network, busy.ctx("network", { poll }));
    expect(busy.emulator.inventory({ cloud: "azure", tags: { "k3sinfra:cluster": "dsb" } })).toEqual([]);
  });
});

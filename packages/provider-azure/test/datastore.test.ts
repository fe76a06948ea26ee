import { type DatastoreSpec, K3sinfraError, resourceTags, Secret } from "@k3sinfra/core";
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

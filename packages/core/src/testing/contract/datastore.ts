import assert from "node:assert/strict";
import { K3sinfraError } from "../../errors.js";
import type { DatastoreSpec } from "../../resources/datastore.js";
import { Secret } from "../../secret.js";
import {
  assertAdopted,
  assertDeletedTwice,
  assertFindByTags,
  assertReadyEverywhere,
  type Kit,
  ownedIds,
} from "./kit.js";
import { needNetwork } from "./network.js";

export function datastoreCases(k: Kit): void {
  k.o.it(
    "datastore: create returns once available with an endpoint, idempotent, adopted, find by tags, protected delete refused, update, delete twice",
    async () => {
      const svc = k.svc("datastore");
      // The newest MySQL the provider says it offers (8.4 where it can, as the config's default).
      const mysql = k.o.provider.capabilities.datastoreEngines?.find((e) => e.engine === "mysql");
      const version = mysql?.versions.includes("8.4") ? "8.4" : (mysql?.versions.at(-1) ?? "8.4");
      const spec: DatastoreSpec = {
        engine: "mysql",
        version,
        size: { vcpus: 2, memoryGiB: 8 },
        storageGiB: 20,
        highAvailability: false,
        deletionProtection: true,
        backupRetentionDays: 1,
        username: "k3sadmin",
        password: new Secret("Abcdefgh12345678Abcdefgh12345678"),
        network: needNetwork(k),
      };
      const a = await svc.create(spec, k.ctx("datastore"));
      await assertReadyEverywhere(k, "datastore", svc, a, "datastore");
      const before = await ownedIds(k, "datastore");
      const b = await svc.create(spec, k.ctx("datastore"));
      assert.equal(b.id, a.id, "same datastore on a repeated create");
      await assertAdopted(k, "datastore", spec, "datastore", a.id);
      assert.deepEqual(await ownedIds(k, "datastore"), before, "no duplicate objects");
      await assertFindByTags(k, svc, "datastore", [a.id]);
      await assert.rejects(
        svc.delete(a, k.ctx("datastore")),
        (e: unknown) => K3sinfraError.is(e, "DeletionProtected"),
        "deletion protection must refuse delete with a DeletionProtectedError",
      );
      assert.ok(svc.update, "datastore update (deletion protection off) is required");
      const off = await svc.update(a, { ...spec, deletionProtection: false }, k.ctx("datastore"));
      assert.equal(off.deletionProtection, false, "update turned deletion protection off");
      assert.equal((await svc.read(a, k.ctx("datastore")))?.deletionProtection, false, "read agrees");
      await assertDeletedTwice(k, svc, off, "datastore");
    },
    k.timeout,
  );
}

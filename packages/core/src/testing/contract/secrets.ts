import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Secret } from "../../secret.js";
import { assertDeletedTwice, assertFindByTags, type Kit } from "./kit.js";

const RESOURCE = "secrets";
const value = () => `v${randomUUID().replaceAll("-", "")}`;

/**
 * Before the nodes, as a cluster builds it: the store takes values, names them as `nameOf` says before they
 * exist, reads them back, adds no version for an unchanged value, is adopted by a fresh process, replaces a
 * changed value and deletes a key left out.
 */
export function secretStoreCases(k: Kit): void {
  k.o.it(
    "secretStore: create is idempotent, adopted, named as nameOf says, reveal reads back, find by tags",
    async () => {
      const svc = k.svc("secretStore");
      const token = value();
      const spec = { values: { "k3s-token": new Secret(token), "datastore-password": new Secret(value()) } };
      const first = await svc.create(spec, k.ctx(RESOURCE));
      assert.equal(
        first.names["k3s-token"],
        svc.nameOf(k.cluster, "k3s-token"),
        "the stored name is the one nameOf gave before it existed",
      );
      const again = await svc.create(spec, k.ctx(RESOURCE));
      assert.equal(again.id, first.id, "a second create returns the same store");
      assert.deepEqual(again.versions, first.versions, "an unchanged value adds no version");
      const adopted = await k.svc("secretStore", await k.fresh()).create(spec, k.ctx(RESOURCE));
      assert.deepEqual(adopted.versions, first.versions, "a fresh process adopts the store and its values");
      assert.equal(
        (await svc.reveal("k3s-token", k.ctx(RESOURCE)))?.reveal(),
        token,
        "reveal reads the value",
      );
      const read = await svc.read(first, k.ctx(RESOURCE));
      assert.deepEqual(read?.versions, first.versions, "read reports the stored versions");
      await assertFindByTags(k, svc, RESOURCE, [first.id]);
      const changed = value();
      const next = await svc.create({ values: { "k3s-token": new Secret(changed) } }, k.ctx(RESOURCE));
      assert.notEqual(
        next.versions["k3s-token"],
        first.versions["k3s-token"],
        "a changed value is a new version",
      );
      assert.equal((await svc.reveal("k3s-token", k.ctx(RESOURCE)))?.reveal(), changed);
      assert.equal(
        await svc.reveal("datastore-password", k.ctx(RESOURCE)),
        undefined,
        "a key left out of the spec is deleted",
      );
      k.made.secrets = next;
    },
    k.timeout,
  );
}

/** After the nodes (they read their secrets at boot): delete twice, then nothing is left. */
export function secretStoreDeleteCase(k: Kit): void {
  k.o.it(
    "secretStore: delete twice, then read and reveal find nothing",
    async () => {
      const svc = k.svc("secretStore");
      const made = k.made.secrets;
      assert.ok(made, "the secretStore case must pass first");
      await assertDeletedTwice(k, svc, made, RESOURCE);
      assert.equal(await svc.reveal("k3s-token", k.ctx(RESOURCE)), undefined, "reveal after delete");
    },
    k.timeout,
  );
}

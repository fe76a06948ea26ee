import assert from "node:assert/strict";
import { clusterTags, resourceTags } from "../../naming.js";
import { firewallRules } from "../../network-rules.js";
import type { NetworkSpec } from "../../resources/network.js";
import { assertFindByTags, type Kit, ownedIds } from "./kit.js";

export const networkSpec = (k: Kit): NetworkSpec => ({
  zones: k.o.zones,
  rules: firewallRules({ mode: "l4", clientCidrs: ["0.0.0.0/0"], adminCidrs: [], ssh: false }),
});

/** The network comes first: every other kind joins it. */
export function networkCases(k: Kit): void {
  k.o.it(
    "network: create is idempotent, adopts after a crash, find by tags, read",
    async () => {
      const svc = k.svc("network");
      const spec = networkSpec(k);
      const first = await svc.create(spec, k.ctx("network"));
      const before = await ownedIds(k, "network");
      const again = await svc.create(spec, k.ctx("network"));
      assert.equal(again.id, first.id, "a second create with the same context must return the same network");
      const adopted = await k.svc("network", await k.fresh()).create(spec, k.ctx("network"));
      assert.equal(adopted.id, first.id, "a fresh process must adopt the network, not create another");
      assert.deepEqual(await ownedIds(k, "network"), before, "no duplicate objects");
      assert.equal(first.subnets.length, k.o.zones.length, "one subnet per zone");
      assert.deepEqual(
        first.subnets.map((s) => s.zone).sort(),
        [...k.o.zones].sort(),
        "the subnets are in the given zones",
      );
      for (const g of ["nodes", "loadBalancer", "datastore"] as const)
        assert.ok(first.groups[g], `a firewall group for ${g}`);
      const read = await svc.read(first, k.ctx("network"));
      assert.equal(read?.id, first.id, "read returns the network");
      await assertFindByTags(k, svc, "network", [first.id]);
      k.made.network = first;
    },
    k.timeout,
  );
}

/** Last: deleting the network (twice) leaves nothing with the cluster's tags. */
export function destroyCase(k: Kit): void {
  k.o.it(
    "destroy leaves nothing carrying the cluster's tags",
    async () => {
      const svc = k.svc("network");
      const network = k.made.network;
      if (network) {
        await svc.delete(network, k.ctx("network"));
        await assert.doesNotReject(
          svc.delete(network, k.ctx("network")),
          "network: deleting a missing object must not fail",
        );
        assert.equal(await svc.read(network, k.ctx("network")), undefined, "read after delete is undefined");
        assert.deepEqual(await k.h().owned(resourceTags(k.cluster, "network")), [], "network objects remain");
      }
      assert.deepEqual(
        await k.h().owned(clusterTags(k.cluster)),
        [],
        "objects with this cluster's tags remain",
      );
    },
    k.timeout,
  );
}

/** The network as earlier cases made it. */
export const needNetwork = (k: Kit) => {
  assert.ok(k.made.network, "the network case must pass first");
  return k.made.network;
};

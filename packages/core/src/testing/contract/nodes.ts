import assert from "node:assert/strict";
import type { NodeSpec } from "../../resources/node.js";
import {
  assertAdopted,
  assertDeletedTwice,
  assertFindByTags,
  assertReadyEverywhere,
  type Kit,
} from "./kit.js";
import { needNetwork } from "./network.js";

/** The late values core publishes to every node (the node contract's keys). */
const LATE_VALUES = {
  "datastore-host": "k3s-db.example.internal",
  "datastore-port": "3306",
  "first-server-ip": "10.0.0.10",
};

const nodeSpec = (k: Kit, index: number): NodeSpec => ({
  index,
  zone: k.o.zones[index % k.o.zones.length] ?? "",
  size: { vcpus: 2, memoryGiB: 4 },
  diskGiB: 30,
  image: "ubuntu-24.04",
  userData: "#cloud-config\n",
  userDataHash: `h${index}`,
  network: needNetwork(k),
});

/** Two nodes, kept for the load balancer's targets, the drift cases and `publish`; deleted by `nodesDeleteCase`. */
export function nodeCases(k: Kit): void {
  k.o.it(
    "nodes: create returns once running with a private IP, is idempotent, adopted, find by tags",
    async () => {
      const svc = k.svc("nodes");
      for (const index of [0, 1]) {
        const resource = `node-${index}`;
        const spec = nodeSpec(k, index);
        const a = await svc.create(spec, k.ctx(resource));
        k.made.nodes[index] = a;
        k.made.nodeSpecs[index] = spec;
        await assertReadyEverywhere(k, "nodes", svc, a, resource);
        const b = await svc.create(spec, k.ctx(resource));
        assert.equal(b.id, a.id, `${resource}: same node on a repeated create`);
        await assertAdopted(k, "nodes", spec, resource, a.id);
        assert.deepEqual(
          await k.h().owned({ ...k.ctx(resource).tags }),
          [a.id],
          `${resource}: exactly one object`,
        );
      }
      for (const [index, node] of k.made.nodes.entries())
        await assertFindByTags(k, svc, `node-${index}`, [node.id]);
    },
    k.timeout,
  );

  if (k.t.publish)
    k.o.it(
      "nodes: publish writes the late values where the node reads them",
      async () => {
        const svc = k.svc("nodes");
        assert.ok(
          svc.publish,
          "nodes.publish is missing: nodes would wait forever for the datastore host (turn the publish toggle off only if the provider declares another way)",
        );
        const node = k.made.nodes[0];
        assert.ok(node, "the nodes case must pass first");
        await svc.publish(node, LATE_VALUES, k.ctx("node-0"));
        // Publishing again (a resumed run) is harmless.
        await svc.publish(node, LATE_VALUES, k.ctx("node-0"));
        const published = k.h().published;
        if (!published) return;
        const seen = await published.call(k.h(), node);
        for (const [key, value] of Object.entries(LATE_VALUES))
          assert.equal(seen[key], value, `published '${key}' reads back as '${seen[key]}', not '${value}'`);
      },
      k.timeout,
    );
}

export function nodesDeleteCase(k: Kit): void {
  k.o.it(
    "nodes: delete twice, then read finds nothing",
    async () => {
      const svc = k.svc("nodes");
      assert.ok(k.made.nodes.length > 0, "the nodes case must pass first");
      for (const [index, node] of k.made.nodes.entries())
        await assertDeletedTwice(k, svc, node, `node-${index}`);
    },
    k.timeout,
  );
}

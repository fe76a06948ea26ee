import assert from "node:assert/strict";
import type { LoadBalancerSpec, LoadBalancerState, TargetsState } from "../../resources/load-balancer.js";
import type { NodeState } from "../../resources/node.js";
import {
  assertAdopted,
  assertDeletedTwice,
  assertFindByTags,
  assertReadyEverywhere,
  type Kit,
  ownedIds,
} from "./kit.js";
import { needNetwork } from "./network.js";

const L4 = "load-balancer";
const L7 = "lb7";

const lbSpec = (k: Kit, mode: "l4" | "l7"): LoadBalancerSpec => ({
  mode,
  zones: k.o.zones,
  certificate: k.o.certificate,
  healthCheck: {
    protocol: "tcp",
    port: 80,
    intervalSeconds: 10,
    timeoutSeconds: 6,
    healthyThreshold: 3,
    unhealthyThreshold: 3,
  },
  idleTimeoutSeconds: 1800,
  crossZone: true,
  network: needNetwork(k),
});

const createChecked = async (k: Kit, mode: "l4" | "l7"): Promise<LoadBalancerState> => {
  const svc = k.svc("loadBalancer");
  const resource = mode === "l4" ? L4 : L7;
  const spec = lbSpec(k, mode);
  const a = await svc.create(spec, k.ctx(resource));
  await assertReadyEverywhere(k, "loadBalancer", svc, a, resource);
  assert.equal(a.mode, mode, `the load balancer is ${mode}`);
  const before = await ownedIds(k, resource);
  const b = await svc.create(spec, k.ctx(resource));
  assert.equal(b.id, a.id, "same load balancer on a repeated create");
  await assertAdopted(k, "loadBalancer", spec, resource, a.id);
  assert.deepEqual(await ownedIds(k, resource), before, "no duplicate objects");
  await assertFindByTags(k, svc, resource, [a.id]);
  return a;
};

export function loadBalancerCases(k: Kit): void {
  k.o.it(
    "load balancer (L4): create returns once active with an address, idempotent, adopted, find by tags",
    async () => {
      k.made.lb = await createChecked(k, "l4");
    },
    k.timeout,
  );

  k.o.it(
    "load balancer: setTargets registers exactly the given nodes (two, one, none); getTargets and the cloud agree",
    async () => {
      const svc = k.svc("loadBalancer");
      const lb = k.made.lb;
      assert.ok(lb, "the L4 load balancer case must pass first");
      const ctx = k.ctx(L4);
      const [n0, n1] = k.made.nodes;
      // Without nodes (a provider with the nodes toggle off) only the empty set can be checked.
      const rounds: NodeState[][] = n0 && n1 ? [[n0, n1], [n0], []] : [[]];
      for (const nodes of rounds) {
        const want = nodes.map((n) => n.id).sort();
        const label = `setTargets([${want.join(", ")}])`;
        const set: TargetsState = await svc.setTargets(lb, nodes, ctx);
        assert.deepEqual([...set.nodeIds].sort(), want, `${label} returned ${set.nodeIds}`);
        const got = await svc.getTargets(lb, ctx);
        assert.ok(got, `getTargets after ${label} found no load balancer`);
        assert.deepEqual([...got.nodeIds].sort(), want, `getTargets after ${label} reads ${got.nodeIds}`);
        const targets = k.h().targets;
        if (targets) {
          const live = (await targets.call(k.h(), lb)).sort();
          assert.deepEqual(live, want, `after ${label} the cloud has [${live}] registered`);
        }
      }
    },
    k.timeout,
  );

  if (k.t.l7)
    k.o.it(
      "load balancer (L7): create returns once active with an address, idempotent, adopted, delete twice",
      async () => {
        const a = await createChecked(k, "l7");
        await assertDeletedTwice(k, k.svc("loadBalancer"), a, L7);
      },
      k.timeout,
    );
}

/** After the DNS cases, which point records at the L4 load balancer. */
export function loadBalancerDeleteCase(k: Kit): void {
  k.o.it(
    "load balancer (L4): delete twice, then getTargets and read find nothing",
    async () => {
      const svc = k.svc("loadBalancer");
      const lb = k.made.lb;
      assert.ok(lb, "the L4 load balancer case must pass first");
      await assertDeletedTwice(k, svc, lb, L4);
      assert.equal(await svc.getTargets(lb, k.ctx(L4)), undefined, "getTargets of a deleted load balancer");
      delete k.made.lb;
    },
    k.timeout,
  );
}

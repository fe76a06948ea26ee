import assert from "node:assert/strict";
import { type Kit, readyWord } from "./kit.js";
import { networkSpec } from "./network.js";

/** The harness's drift back door, or a failure saying what to give (or which toggle turns the case off). */
const hook = <K extends "stopNode" | "addIngressRule">(k: Kit, name: K) => {
  const drift = k.h().drift;
  const fn = drift?.[name];
  assert.ok(fn, `the harness has no drift.${name} back door: give one, or set toggles.repairsDrift to false`);
  return fn.bind(drift) as NonNullable<typeof fn>;
};

/**
 * `update` converges drift back to the spec (the orchestrator calls it to repair what `status` reports).
 * Runs while the nodes still exist.
 */
export function driftCases(k: Kit): void {
  if (!k.t.repairsDrift) return;
  if (k.t.nodes)
    k.o.it(
      "drift: update starts a node stopped outside k3sinfra",
      async () => {
        const svc = k.svc("nodes");
        const node = k.made.nodes[0];
        const spec = k.made.nodeSpecs[0];
        assert.ok(node && spec, "the nodes case must pass first");
        await hook(k, "stopNode")(node);
        const drifted = await svc.read(node, k.ctx("node-0"));
        assert.ok(drifted, "a stopped node still exists");
        assert.ok(
          !readyWord(k.ready.nodes, drifted.status),
          `read shows the stop (status '${drifted.status}')`,
        );
        assert.ok(svc.update, "nodes.update is needed to repair drift (or turn repairsDrift off)");
        const repaired = await svc.update(drifted, spec, k.ctx("node-0"));
        assert.ok(
          readyWord(k.ready.nodes, repaired.status),
          `update returned '${repaired.status}', not running`,
        );
        const read = await svc.read(node, k.ctx("node-0"));
        assert.ok(read && readyWord(k.ready.nodes, read.status), `read after update shows '${read?.status}'`);
        const status = k.h().status;
        if (status) {
          const live = await status.call(k.h(), node.id);
          assert.ok(readyWord(k.ready.nodes, live), `the cloud reports '${live}' after update`);
        }
        k.made.nodes[0] = read;
      },
      k.timeout,
    );

  if (k.t.network)
    k.o.it(
      "drift: update removes an ingress rule added outside k3sinfra",
      async () => {
        const svc = k.svc("network");
        const network = k.made.network;
        assert.ok(network, "the network case must pass first");
        const before = await svc.read(network, k.ctx("network"));
        assert.ok(before?.rulesDigest, "the network reports a rulesDigest (needed to see rule drift)");
        await hook(k, "addIngressRule")(network);
        const drifted = await svc.read(network, k.ctx("network"));
        assert.notEqual(drifted?.rulesDigest, before.rulesDigest, "read shows the added rule");
        assert.ok(svc.update, "network.update is needed to repair drift (or turn repairsDrift off)");
        await svc.update(network, networkSpec(k), k.ctx("network"));
        const after = await svc.read(network, k.ctx("network"));
        assert.equal(after?.rulesDigest, before.rulesDigest, "update converged the rules back to the spec");
      },
      k.timeout,
    );
}

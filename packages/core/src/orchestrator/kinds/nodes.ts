import { NodeService, type NodeState } from "../../resources/node.js";
import { assertClearOfK3sNetworks } from "../k3s-networks.js";
import { AFTER, hash, serviceHandler, str } from "./shared.js";
import type { KindDescription } from "./types.js";

/** The graph id of server `i`. */
export const nodeId = (i: number): string => `node-${i}`;

/** The index of a server from its graph id (`node-2` → 2). */
export const nodeIndex = (id: string): number => Number(id.slice("node-".length));

/**
 * The K3s servers, `nodes.count` of them. They do not wait for the datastore (minutes longer than anything
 * else): what they learn late is published by `bootstrap`. Replaced one at a time, create-before-destroy
 * (`rolling.ts`).
 */
export const nodes: KindDescription<NodeState> = {
  role: "compute",
  // Nodes read their secrets at boot, so the store is filled before any node exists.
  dependsOn: ["network", "secrets"],
  ids: (r) => Array.from({ length: r.config.nodes.count }, (_, i) => nodeId(i)),
  timeoutMs: 20 * 60_000,
  // A VM is pending about 30 s, and shutting down as long (docs/architecture.md, "Expected durations").
  expectedSeconds: { create: 30, delete: 30 },
  deleteRank: 1,
  label: "the servers",
  sweeps: true,
  // A stopped server is repaired by `up`: its status is drift.
  statusIsDrift: true,
  updatable: (run) => run.container.resolve(NodeService).updatable,
  canRepair: (run) => run.container.resolve(NodeService).update !== undefined,
  inputs: (builder, d, lookup) => {
    const c = builder.config;
    const index = nodeIndex(d.id);
    const network = lookup("network", "network");
    return {
      zone: (c.zones ?? [])[index % (c.zones?.length ?? 1)] ?? "",
      size: str(c.nodes.size),
      instanceType: c.nodes.instanceType ?? "",
      diskGiB: String(c.nodes.diskGiB),
      image: c.nodes.image,
      sshKeyName: c.nodes.sshKeyName ?? "",
      userDataHash: builder.secrets && network ? hash(builder.userData(index, network)) : AFTER,
      network: str(network?.id ?? AFTER),
    };
  },
  handler: (run, id) => {
    const builder = run.builder();
    const index = nodeIndex(id);
    return serviceHandler(run.container.resolve(NodeService), () => {
      const network = run.need("network", "network");
      // Before any server exists in it: K3s's own networks must not overlap the nodes'.
      assertClearOfK3sNetworks(network, run.resolved.compute.provider.name);
      return builder.nodeSpec(index, network);
    });
  },
  schedule: (change, rollout) => {
    const replacing = change.action === "replace";
    const rolling = replacing && rollout.serversCanRoll;
    // One server at a time, and after the LB and datastore it needs to prove the new one healthy.
    return { chained: replacing, rolling, after: rolling ? ["load-balancer", "datastore"] : [] };
  },
  retiredAtOnce: true,
  removedReason: "no longer in the config (nodes.count was lowered)",
  deposedReason: (resource, state) =>
    `the server ${state.id} that ${resource} replaced: deleted once its successor passes the load balancer's health checks`,
};

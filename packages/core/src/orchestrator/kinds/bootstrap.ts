import { ProviderError } from "../../errors.js";
import type { ResourceContext, ResourceState } from "../../resources/common.js";
import { NodeService } from "../../resources/node.js";
import { datastoreReadiness, type ReadinessResult } from "../datastore-readiness.js";
import type { ClusterRun } from "../run.js";
import { AFTER, replacedReason, str } from "./shared.js";
import type { KindDescription } from "./types.js";

/** What the `bootstrap` step recorded: which late values went to which servers, and the datastore check. */
export interface BootstrapState extends ResourceState {
  /** The late values published (names only; `LateValues`). */
  readonly published: readonly string[];
  /** The servers they were published to. */
  readonly nodeIds: readonly string[];
  /** What the datastore readiness check found. */
  readonly datastore: ReadinessResult;
}

/** Publishes the late values to every node and checks the datastore (the `bootstrap` step). */
async function publishAll(run: ClusterRun, ctx: ResourceContext): Promise<BootstrapState> {
  const nodes = run.container.resolve(NodeService);
  const datastore = run.need("datastore", "datastore");
  const all = run.nodeStates();
  const first = all[0];
  if (!first) throw new ProviderError("node-0 is not in state; it must be created first");
  const values = run.builder().bootstrapValues(datastore, first);
  if (nodes.publish) {
    for (const node of all) {
      ctx.report(`publishing datastore endpoint to ${node.name}`);
      await nodes.publish(node, values, ctx);
    }
  }
  ctx.report("checking the datastore");
  const readiness = await datastoreReadiness({
    config: run.config,
    secrets: run.state!.secrets!,
    datastore,
    address: run.settings.datastoreAddress({ host: datastore.host, port: datastore.port }),
    signal: ctx.signal,
    caUrl: run.resolved.compute.provider.datastoreCaUrl?.(run.config.region),
    checkedBy:
      run.resolved.compute.provider.capabilities.datastoreCheck === "provider"
        ? run.resolved.compute.provider.name
        : undefined,
  });
  if (readiness.status === "ready") {
    const made = [readiness.created.database && "database", readiness.created.user && "user"].filter(Boolean);
    ctx.report(
      `datastore ready: ${readiness.flavor} ${readiness.serverVersion}${made.length > 0 ? `; created the K3s ${made.join(" and ")}` : ""}`,
    );
  }
  // Expected, not a problem: a managed datastore is private (the nodes reach it, this machine does not).
  if (readiness.status === "skipped")
    run.emit({ type: "info", message: `Datastore check skipped: ${readiness.reason}.` });
  else for (const w of readiness.warnings) run.emit({ type: "warning", message: `Datastore: ${w}` });
  return {
    id: `${run.config.name}-bootstrap`,
    published: Object.keys(values),
    nodeIds: all.map((n) => n.id),
    datastore: readiness,
  };
}

/**
 * The late values (datastore endpoint, first server) published to every server once the datastore and the
 * servers exist, and the datastore's readiness check: no cloud object of its own.
 */
export const bootstrap: KindDescription<BootstrapState> = {
  role: "compute",
  dependsOn: ["datastore", "nodes"],
  ids: () => ["bootstrap"],
  timeoutMs: 10 * 60_000,
  // It publishes to the servers, so their `timeouts.nodes` applies.
  timeoutOption: "nodes",
  expectedSeconds: { create: 2, delete: 1 },
  deleteRank: 0,
  label: "bootstrap",
  sweeps: false,
  derived: true,
  updatable: () => "all",
  canRepair: () => true,
  inputs: (_builder, d, lookup) => {
    const ds = lookup("datastore", "datastore");
    const nodes = d.dependsOn
      .filter((x) => x.startsWith("node-"))
      .map((x) => lookup("nodes", x)?.id ?? AFTER);
    return { datastore: ds ? `${ds.host}:${ds.port}` : AFTER, nodes: str(nodes) };
  },
  handler: (run) => ({
    create: (ctx) => publishAll(run, ctx),
    update: (_s, ctx) => publishAll(run, ctx),
    delete: async () => undefined,
    read: async (s) => s,
    find: async () => [],
  }),
  // The late values settle once every old server is retired.
  schedule: (_change, rollout) => ({ after: rollout.retiring }),
  deposedReason: replacedReason,
};

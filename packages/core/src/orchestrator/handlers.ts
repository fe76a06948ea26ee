import { ProviderError } from "../errors.js";
import type { ResourceContext, ResourceService, ResourceState, Tags } from "../resources/common.js";
import { DatastoreService, type DatastoreState } from "../resources/datastore.js";
import { DnsRecordService } from "../resources/dns-record.js";
import { LoadBalancerService, type LoadBalancerState } from "../resources/load-balancer.js";
import { NetworkService, type NetworkState } from "../resources/network.js";
import { NodeService } from "../resources/node.js";
import { SecretStoreService } from "../resources/secret-store.js";
import { datastoreReadiness } from "./datastore-readiness.js";
import type { ResourceKind } from "./desired.js";
import type { AnyState, ClusterRun } from "./run.js";

/** The operations the orchestrator needs from one kind of resource. */
export interface Handler {
  create(ctx: ResourceContext): Promise<AnyState>;
  update(state: AnyState, ctx: ResourceContext): Promise<AnyState>;
  delete(state: AnyState, ctx: ResourceContext): Promise<void>;
  read(state: AnyState, ctx: ResourceContext): Promise<AnyState | undefined>;
  find(tags: Tags, ctx: ResourceContext): Promise<AnyState[]>;
}

const cast = (p: Promise<unknown>) => p as Promise<AnyState>;

/** Spec fields a kind can change in place; derived kinds are always updatable. */
export function updatableFields(run: ClusterRun, kind: ResourceKind): readonly string[] | "all" {
  const c = run.container;
  switch (kind) {
    case "network":
      return c.resolve(NetworkService).updatable;
    case "nodes":
      return c.resolve(NodeService).updatable;
    case "datastore":
      return c.resolve(DatastoreService).updatable;
    case "loadBalancer":
      return c.resolve(LoadBalancerService).updatable;
    default:
      return "all";
  }
}

/** Whether drift of this kind can be repaired in place (the service has `update`), or needs a replacement. */
export function canRepair(run: ClusterRun, kind: ResourceKind): boolean {
  const c = run.container;
  switch (kind) {
    case "network":
      return c.resolve(NetworkService).update !== undefined;
    case "nodes":
      return c.resolve(NodeService).update !== undefined;
    case "datastore":
      return c.resolve(DatastoreService).update !== undefined;
    case "loadBalancer":
      return c.resolve(LoadBalancerService).update !== undefined;
    default:
      return true;
  }
}

/** A handler over one resource service; the spec is built only when a call needs it. */
function serviceHandler<Spec, State extends ResourceState>(
  svc: ResourceService<Spec, State>,
  spec: () => Spec,
): Handler {
  return {
    create: (ctx) => cast(svc.create(spec(), ctx)),
    update: (s, ctx) => {
      if (!svc.update) throw new ProviderError(`${ctx.resource}: the provider cannot update it in place`);
      return cast(svc.update(s as unknown as State, spec(), ctx));
    },
    delete: (s, ctx) => svc.delete(s as unknown as State, ctx),
    read: (s, ctx) => cast(svc.read(s as unknown as State, ctx)),
    find: (t, ctx) => svc.findByTags(t, ctx) as unknown as Promise<AnyState[]>,
  };
}

/** Publishes the late values to every node and checks the datastore (the `bootstrap` step). */
async function publishAll(run: ClusterRun, ctx: ResourceContext): Promise<AnyState> {
  const nodes = run.container.resolve(NodeService);
  const datastore = run.need<DatastoreState>("datastore");
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

/** The handler for one resource of a kind, over the cluster's services. */
export function handlerFor(run: ClusterRun, kind: ResourceKind, id: string): Handler {
  const c = run.container;
  const builder = run.builder();
  switch (kind) {
    case "network":
      return serviceHandler(c.resolve(NetworkService), () => builder.networkSpec());
    case "nodes": {
      const index = Number(id.slice("node-".length));
      return serviceHandler(c.resolve(NodeService), () =>
        builder.nodeSpec(index, run.need<NetworkState>("network")),
      );
    }
    case "datastore":
      return serviceHandler(c.resolve(DatastoreService), () =>
        builder.datastoreSpec(run.need<NetworkState>("network")),
      );
    case "loadBalancer":
      return serviceHandler(c.resolve(LoadBalancerService), () =>
        builder.loadBalancerSpec(run.need<NetworkState>("network")),
      );
    case "targets": {
      const svc = c.resolve(LoadBalancerService);
      const lb = () => run.need<LoadBalancerState>("load-balancer");
      // Servers kept for a replacement not yet healthy stay registered: they are still serving.
      const set = (ctx: ResourceContext) =>
        cast(svc.setTargets(lb(), [...run.nodeStates(), ...run.deposedNodes()], ctx));
      return {
        create: set,
        update: (_s, ctx) => set(ctx),
        delete: async (_s, ctx) => {
          const current = run.live("load-balancer") as unknown as LoadBalancerState | undefined;
          if (current) await svc.setTargets(current, [], ctx);
        },
        read: async (_s, ctx) => {
          const current = run.live("load-balancer") as unknown as LoadBalancerState | undefined;
          return current ? cast(svc.getTargets(current, ctx)) : undefined;
        },
        find: async () => [],
      };
    }
    case "dns": {
      const svc = c.resolve(DnsRecordService);
      const spec = () => builder.dnsSpec(run.need<LoadBalancerState>("load-balancer"));
      return {
        create: (ctx) => cast(svc.create(spec(), ctx)),
        // DNS creates are upserts, so a service without `update` converges through `create`.
        update: (s, ctx) => cast(svc.update ? svc.update(s as never, spec(), ctx) : svc.create(spec(), ctx)),
        delete: (s, ctx) => svc.delete(s as never, ctx),
        read: (s, ctx) => cast(svc.read(s as never, ctx)),
        find: (t, ctx) => svc.findByTags(t, ctx) as unknown as Promise<AnyState[]>,
      };
    }
    case "secrets":
      return serviceHandler(c.resolve(SecretStoreService), () => builder.secretsSpec());
    case "bootstrap":
      return {
        create: (ctx) => publishAll(run, ctx),
        update: (_s, ctx) => publishAll(run, ctx),
        delete: async () => undefined,
        read: async (s) => s,
        find: async () => [],
      };
  }
}

import {
  type LoadBalancerSpec,
  type LoadBalancerState,
  type NodeState,
  ProviderError,
  type ResourceContext,
  type TargetsState,
} from "@k3sinfra/core";
import { gcpCall, ONE_ATTEMPT } from "../call.js";
import type { GcpClients } from "../clients.js";
import { describeOwned } from "../labels.js";
import { computeOp } from "../operations.js";
import { ensureDeleted, ensureInserted, getOrUndefined, last, pathOf } from "./compute-util.js";

interface Backend {
  backends?: { group?: string | null }[] | null;
}

/** `projects/p/zones/z/instanceGroups/g` → its zone and name. */
const groupParts = (url: string) => {
  const path = pathOf(url).split("/");
  return { zone: path[3] ?? "", name: path[5] ?? "" };
};

/**
 * The balancer's targets: one unmanaged instance group per zone, its members the nodes of that zone
 * (https://cloud.google.com/compute/docs/instance-groups/creating-groups-of-unmanaged-instances), and their
 * health as the backend service's `getHealth` reports it.
 */
export class GcpTargets {
  constructor(private readonly clients: GcpClients) {}

  /** Makes (or adopts) the group of every zone; returns their URLs. */
  async ensureGroups(
    spec: LoadBalancerSpec,
    ctx: ResourceContext,
    nameOf: (zone: string) => string,
    namedPorts: { name: string; port: number }[],
  ): Promise<string[]> {
    const project = await this.clients.project();
    const groups = await this.clients.compute("InstanceGroupsClient");
    const out: string[] = [];
    for (const zone of spec.zones) {
      const name = nameOf(zone);
      const g = await ensureInserted(
        this.clients,
        ctx,
        `Compute instanceGroups.insert (${name})`,
        `group-${zone}`,
        () => groups.get({ project, zone, instanceGroup: name }, ONE_ATTEMPT),
        (requestId) =>
          groups.insert(
            {
              project,
              zone,
              requestId,
              instanceGroupResource: {
                name,
                network: spec.network.networkId,
                namedPorts,
                description: describeOwned(`k3sinfra: servers in ${zone}`, ctx.tags),
              },
            },
            ONE_ATTEMPT,
          ),
      );
      out.push(g.selfLink ?? "");
    }
    return out;
  }

  async deleteGroups(urls: readonly string[], ctx: ResourceContext): Promise<void> {
    const project = await this.clients.project();
    const groups = await this.clients.compute("InstanceGroupsClient");
    for (const url of urls) {
      const { zone, name } = groupParts(url);
      await ensureDeleted(this.clients, ctx, `Compute instanceGroups.delete (${name})`, () =>
        groups.delete({ project, zone, instanceGroup: name }, ONE_ATTEMPT),
      );
    }
  }

  /** The balancer's backend service: regional for L4, global for L7 (its state id says which). */
  async #backend(lb: LoadBalancerState, ctx: ResourceContext): Promise<Backend | undefined> {
    const project = await this.clients.project();
    const path = lb.id.split("/");
    if (path[2] === "regions") {
      const bss = await this.clients.compute("RegionBackendServicesClient");
      return getOrUndefined(`Compute regionBackendServices.get (${lb.name})`, ctx, () =>
        bss.get({ project, region: path[3] ?? "", backendService: last(lb.id) }, ONE_ATTEMPT),
      );
    }
    const bss = await this.clients.compute("BackendServicesClient");
    return getOrUndefined(`Compute backendServices.get (${last(lb.id)})`, ctx, () =>
      bss.get({ project, backendService: last(lb.id) }, ONE_ATTEMPT),
    );
  }

  async #members(url: string, ctx: ResourceContext): Promise<string[]> {
    const project = await this.clients.project();
    const groups = await this.clients.compute("InstanceGroupsClient");
    const { zone, name } = groupParts(url);
    const [items] = await gcpCall(`Compute instanceGroups.listInstances (${name})`, ctx, () =>
      groups.listInstances(
        { project, zone, instanceGroup: name, instanceGroupsListInstancesRequestResource: {} },
        ONE_ATTEMPT,
      ),
    );
    return items.map((i) => pathOf(i.instance));
  }

  /** Registers exactly these nodes: each joins its zone's group, and any other member leaves. */
  async set(lb: LoadBalancerState, nodes: readonly NodeState[], ctx: ResourceContext): Promise<TargetsState> {
    const project = await this.clients.project();
    const bs = await this.#backend(lb, ctx);
    if (!bs) throw new ProviderError(`load balancer ${lb.name} no longer exists`);
    const groups = await this.clients.compute("InstanceGroupsClient");
    const urls = (bs.backends ?? []).map((b) => b.group ?? "");
    const zones = urls.map((u) => groupParts(u).zone);
    for (const node of nodes)
      if (!zones.includes(node.zone))
        throw new ProviderError(
          `node ${node.name} is in ${node.zone}, where ${lb.name} has no instance group`,
        );
    for (const url of urls) {
      const { zone, name } = groupParts(url);
      const want = nodes.filter((n) => n.zone === zone).map((n) => n.id);
      const have = await this.#members(url, ctx);
      const add = want.filter((id) => !have.includes(id));
      const remove = have.filter((id) => !want.includes(id));
      if (add.length > 0)
        await computeOp(this.clients, `Compute instanceGroups.addInstances (${name})`, ctx, () =>
          groups.addInstances(
            {
              project,
              zone,
              instanceGroup: name,
              instanceGroupsAddInstancesRequestResource: { instances: add.map((instance) => ({ instance })) },
            },
            ONE_ATTEMPT,
          ),
        );
      if (remove.length > 0)
        await computeOp(this.clients, `Compute instanceGroups.removeInstances (${name})`, ctx, () =>
          groups.removeInstances(
            {
              project,
              zone,
              instanceGroup: name,
              instanceGroupsRemoveInstancesRequestResource: {
                instances: remove.map((instance) => ({ instance })),
              },
            },
            ONE_ATTEMPT,
          ),
        );
    }
    const got = await this.get(lb, ctx);
    if (!got) throw new ProviderError(`load balancer ${lb.name} no longer exists`);
    return got;
  }

  /** The registered nodes and which of them the health checks pass; undefined when the balancer is gone. */
  async get(lb: LoadBalancerState, ctx: ResourceContext): Promise<TargetsState | undefined> {
    const bs = await this.#backend(lb, ctx);
    if (!bs) return undefined;
    const project = await this.clients.project();
    const path = lb.id.split("/");
    const nodeIds: string[] = [];
    const healthy: string[] = [];
    for (const b of bs.backends ?? []) {
      const group = b.group ?? "";
      nodeIds.push(...(await this.#members(group, ctx)));
      const request = { project, backendService: last(lb.id), resourceGroupReferenceResource: { group } };
      const [health] =
        path[2] === "regions"
          ? await gcpCall(`Compute regionBackendServices.getHealth (${lb.name})`, ctx, async () =>
              (await this.clients.compute("RegionBackendServicesClient")).getHealth(
                { ...request, region: path[3] ?? "" },
                ONE_ATTEMPT,
              ),
            )
          : await gcpCall(`Compute backendServices.getHealth (${lb.name})`, ctx, async () =>
              (await this.clients.compute("BackendServicesClient")).getHealth(request, ONE_ATTEMPT),
            );
      for (const s of health.healthStatus ?? [])
        if (s.healthState === "HEALTHY") healthy.push(pathOf(s.instance));
    }
    return { id: lb.id, nodeIds, healthy };
  }
}

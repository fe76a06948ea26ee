import {
  InvalidConfigError,
  type LoadBalancerService,
  type LoadBalancerSpec,
  type LoadBalancerState,
  type NodeState,
  type ResourceContext,
  type Tags,
  type TargetsState,
} from "@k3sinfra/core";
import { gcpCall, ONE_ATTEMPT } from "../call.js";
import type { GcpClients } from "../clients.js";
import { describeOwned, hasLabels, markerLabels, toLabels } from "../labels.js";
import { ensureDeleted, ensureInserted, getOrUndefined, last, pathOf } from "./compute-util.js";
import { GcpL7 } from "./load-balancer-l7.js";
import { GcpTargets } from "./load-balancer-targets.js";

interface BackendService {
  name?: string | null;
  selfLink?: string | null;
  description?: string | null;
  backends?: { group?: string | null }[] | null;
  loadBalancingScheme?: string | null;
}

/** Names of an L4 balancer's parts, from its physical name. */
export const l4Names = (base: string) => ({
  address: `${base}-ip`,
  healthCheck: `${base}-hc`,
  backendService: base,
  group: (zone: string) => `${base}-${zone}`,
  rule: (port: number) => `${base}-${port}`,
});

/**
 * L4: a regional external passthrough Network Load Balancer with a backend service (EXTERNAL, TCP), one
 * unmanaged instance group per zone, a TCP health check and forwarding rules for 80 and 443 on one reserved
 * static IP. Target pools are the legacy form (https://cloud.google.com/load-balancing/docs/network/networklb-target-pools):
 * not used. L7 is the global external Application Load Balancer (load-balancer-l7.ts).
 */
export class GcpLoadBalancerService implements LoadBalancerService {
  readonly updatable = [] as const satisfies readonly (keyof LoadBalancerSpec)[];
  readonly #targets: GcpTargets;
  readonly #l7: GcpL7;

  /** @param hostname the Rancher host name, for the Google-managed certificate of L7 without a given one. */
  constructor(
    private readonly clients: GcpClients,
    hostname?: string,
  ) {
    this.#targets = new GcpTargets(clients);
    this.#l7 = new GcpL7(clients, this.#targets, hostname);
  }

  native(): Promise<unknown> {
    return this.clients.compute("RegionBackendServicesClient");
  }

  async create(spec: LoadBalancerSpec, ctx: ResourceContext): Promise<LoadBalancerState> {
    if (spec.mode === "l7") return this.#l7.create(spec, ctx);
    const project = await this.clients.project();
    const region = ctx.region;
    const n = l4Names(ctx.name);
    const labels = toLabels(ctx.tags);
    const addresses = await this.clients.compute("AddressesClient");
    const address = await ensureInserted(
      this.clients,
      ctx,
      `Compute addresses.insert (${n.address})`,
      "address",
      () => addresses.get({ project, region, address: n.address }, ONE_ATTEMPT),
      (requestId) =>
        addresses.insert(
          {
            project,
            region,
            requestId,
            addressResource: { name: n.address, addressType: "EXTERNAL", networkTier: "PREMIUM", labels },
          },
          ONE_ATTEMPT,
        ),
    );
    const hcs = await this.clients.compute("RegionHealthChecksClient");
    const hc = spec.healthCheck;
    const healthCheck = await ensureInserted(
      this.clients,
      ctx,
      `Compute regionHealthChecks.insert (${n.healthCheck})`,
      "health-check",
      () => hcs.get({ project, region, healthCheck: n.healthCheck }, ONE_ATTEMPT),
      (requestId) =>
        hcs.insert(
          {
            project,
            region,
            requestId,
            healthCheckResource: {
              name: n.healthCheck,
              description: describeOwned("k3sinfra: Traefik answers", ctx.tags),
              // TCP on 80: an HTTP check without a Host header gets Traefik's 404.
              type: "TCP",
              tcpHealthCheck: { port: hc.port },
              checkIntervalSec: hc.intervalSeconds,
              timeoutSec: hc.timeoutSeconds,
              healthyThreshold: hc.healthyThreshold,
              unhealthyThreshold: hc.unhealthyThreshold,
            },
          },
          ONE_ATTEMPT,
        ),
    );
    const groups = await this.#targets.ensureGroups(spec, ctx, n.group, [
      { name: "http", port: 80 },
      { name: "https", port: 443 },
    ]);
    const bss = await this.clients.compute("RegionBackendServicesClient");
    const bs = await ensureInserted(
      this.clients,
      ctx,
      `Compute regionBackendServices.insert (${n.backendService})`,
      "backend-service",
      () => bss.get({ project, region, backendService: n.backendService }, ONE_ATTEMPT),
      (requestId) =>
        bss.insert(
          {
            project,
            region,
            requestId,
            backendServiceResource: {
              name: n.backendService,
              description: describeOwned("k3sinfra: Rancher L4", ctx.tags),
              loadBalancingScheme: "EXTERNAL",
              protocol: "TCP",
              healthChecks: [healthCheck.selfLink ?? ""],
              backends: groups.map((g) => ({ group: g, balancingMode: "CONNECTION" })),
            },
          },
          ONE_ATTEMPT,
        ),
    );
    const rules = await this.clients.compute("ForwardingRulesClient");
    for (const port of [80, 443])
      await ensureInserted(
        this.clients,
        ctx,
        `Compute forwardingRules.insert (${n.rule(port)})`,
        `rule-${port}`,
        () => rules.get({ project, region, forwardingRule: n.rule(port) }, ONE_ATTEMPT),
        (requestId) =>
          rules.insert(
            {
              project,
              region,
              requestId,
              forwardingRuleResource: {
                name: n.rule(port),
                IPAddress: address.selfLink ?? "",
                IPProtocol: "TCP",
                ports: [String(port)],
                loadBalancingScheme: "EXTERNAL",
                networkTier: "PREMIUM",
                backendService: bs.selfLink ?? "",
                labels,
              },
            },
            ONE_ATTEMPT,
          ),
      );
    const state = await this.#read(pathOf(bs.selfLink), ctx);
    if (!state)
      throw new InvalidConfigError([
        { path: "loadBalancer", message: `${ctx.name} vanished while being created` },
      ]);
    return state;
  }

  read(state: LoadBalancerState, ctx: ResourceContext): Promise<LoadBalancerState | undefined> {
    return state.mode === "l7" ? this.#l7.read(state, ctx) : this.#read(state.id, ctx);
  }

  async #read(id: string, ctx: ResourceContext): Promise<LoadBalancerState | undefined> {
    const project = await this.clients.project();
    const region = id.split("/")[3] ?? ctx.region;
    const name = last(id);
    const n = l4Names(name);
    const bss = await this.clients.compute("RegionBackendServicesClient");
    const bs = await getOrUndefined(`Compute regionBackendServices.get (${name})`, ctx, () =>
      bss.get({ project, region, backendService: name }, ONE_ATTEMPT),
    );
    if (!bs) return undefined;
    const addresses = await this.clients.compute("AddressesClient");
    const address = await getOrUndefined(`Compute addresses.get (${n.address})`, ctx, () =>
      addresses.get({ project, region, address: n.address }, ONE_ATTEMPT),
    );
    const rules = await this.clients.compute("ForwardingRulesClient");
    const live = await Promise.all(
      [80, 443].map((port) =>
        getOrUndefined(`Compute forwardingRules.get (${n.rule(port)})`, ctx, () =>
          rules.get({ project, region, forwardingRule: n.rule(port) }, ONE_ATTEMPT),
        ),
      ),
    );
    const complete = live.every(Boolean) && address?.address;
    return {
      id: pathOf(bs.selfLink),
      name,
      mode: "l4",
      ...(address?.address ? { ips: [address.address] } : {}),
      status: complete ? "active" : "incomplete",
    };
  }

  async delete(state: LoadBalancerState, ctx: ResourceContext): Promise<void> {
    if (state.mode === "l7") return this.#l7.delete(state, ctx);
    const project = await this.clients.project();
    const region = state.id.split("/")[3] ?? ctx.region;
    const n = l4Names(state.name);
    const bss = await this.clients.compute("RegionBackendServicesClient");
    const bs = (await getOrUndefined(`Compute regionBackendServices.get (${state.name})`, ctx, () =>
      bss.get({ project, region, backendService: n.backendService }, ONE_ATTEMPT),
    )) as BackendService | undefined;
    if (bs && !hasLabels(markerLabels(bs.description), { "k3sinfra:cluster": ctx.cluster })) return;
    const rules = await this.clients.compute("ForwardingRulesClient");
    // Reverse dependency order: rules → backend service → health check and groups → address.
    for (const port of [80, 443])
      await ensureDeleted(this.clients, ctx, `Compute forwardingRules.delete (${n.rule(port)})`, () =>
        rules.delete({ project, region, forwardingRule: n.rule(port) }, ONE_ATTEMPT),
      );
    await ensureDeleted(this.clients, ctx, `Compute regionBackendServices.delete (${state.name})`, () =>
      bss.delete({ project, region, backendService: n.backendService }, ONE_ATTEMPT),
    );
    const hcs = await this.clients.compute("RegionHealthChecksClient");
    await ensureDeleted(this.clients, ctx, `Compute regionHealthChecks.delete (${n.healthCheck})`, () =>
      hcs.delete({ project, region, healthCheck: n.healthCheck }, ONE_ATTEMPT),
    );
    await this.#targets.deleteGroups(
      (bs?.backends ?? []).map((b) => b.group ?? ""),
      ctx,
    );
    const addresses = await this.clients.compute("AddressesClient");
    await ensureDeleted(this.clients, ctx, `Compute addresses.delete (${n.address})`, () =>
      addresses.delete({ project, region, address: n.address }, ONE_ATTEMPT),
    );
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<LoadBalancerState[]> {
    const project = await this.clients.project();
    const bss = await this.clients.compute("RegionBackendServicesClient");
    const [list] = await gcpCall("Compute regionBackendServices.list", ctx, () =>
      bss.list({ project, region: ctx.region }, ONE_ATTEMPT),
    );
    const out: LoadBalancerState[] = [];
    for (const bs of list as BackendService[]) {
      if (!hasLabels(markerLabels(bs.description), tags)) continue;
      const state = await this.#read(pathOf(bs.selfLink), ctx);
      if (state) out.push(state);
    }
    return [...out, ...(await this.#l7.findByTags(tags, ctx))];
  }

  setTargets(
    lb: LoadBalancerState,
    nodes: readonly NodeState[],
    ctx: ResourceContext,
  ): Promise<TargetsState> {
    return this.#targets.set(lb, nodes, ctx);
  }

  getTargets(lb: LoadBalancerState, ctx: ResourceContext): Promise<TargetsState | undefined> {
    return this.#targets.get(lb, ctx);
  }
}

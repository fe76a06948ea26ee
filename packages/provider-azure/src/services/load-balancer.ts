import type { LoadBalancer } from "@azure/arm-network";
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
import { azureCall, collect, orMissing } from "../call.js";
import type { AzureClients } from "../clients.js";
import { assertOwned, hasTags, parseId, resourceGroupOf } from "../naming.js";
import type { AzureOptions } from "../options.js";
import { waitGone, waitSucceeded } from "./arm-wait.js";
import { healthOf, poolMembers, setPool } from "./load-balancer-targets.js";

const MINUTE = 60_000;

/** Names of the balancer's parts. */
export const lbNames = (name: string) => ({
  lb: name,
  ip: `${name}-ip`,
  frontend: "public",
  pool: "nodes",
  probe: "tcp-80",
});

/**
 * A Standard Load Balancer on a zone-redundant Standard public IP: TCP 80 and 443 to the nodes (client
 * addresses preserved), a TCP probe on 80, the idle timeout raised for Rancher's websockets, and an outbound
 * rule so the nodes reach the internet (Standard LB gives backends no default outbound access).
 * https://learn.microsoft.com/en-us/azure/load-balancer/outbound-rules
 */
export class AzureLoadBalancerService implements LoadBalancerService {
  readonly updatable = [] as const;

  constructor(
    private readonly clients: AzureClients,
    private readonly options: AzureOptions,
  ) {}

  async native(): Promise<unknown> {
    return this.clients.network();
  }

  async create(spec: LoadBalancerSpec, ctx: ResourceContext): Promise<LoadBalancerState> {
    if (spec.mode !== "l4")
      throw new InvalidConfigError([
        {
          path: "loadBalancer.mode",
          message: "Azure offers l4 only (Application Gateway is not supported yet)",
        },
      ]);
    const rg = parseId(spec.network.id).resourceGroup;
    const n = lbNames(ctx.name);
    const net = await this.clients.network();
    const getLb = () =>
      orMissing(
        azureCall(`Network LoadBalancers_Get (${n.lb})`, ctx, (o) => net.loadBalancers.get(rg, n.lb, o)),
      );
    const existing = await getLb();
    if (existing) assertOwned(existing.tags, ctx, `load balancer ${existing.id}`);
    const getIp = () =>
      orMissing(
        azureCall(`Network PublicIPAddresses_Get (${n.ip})`, ctx, (o) =>
          net.publicIPAddresses.get(rg, n.ip, o),
        ),
      );
    const ipFound = await getIp();
    if (ipFound) assertOwned(ipFound.tags, ctx, `public IP ${ipFound.id}`);
    else
      await azureCall(`Network PublicIPAddresses_CreateOrUpdate (${n.ip})`, ctx, (o) =>
        net.publicIPAddresses
          .createOrUpdate(
            rg,
            n.ip,
            {
              location: ctx.region,
              tags: { ...ctx.tags },
              // Zone-redundant: one address served from every zone of the region.
              zones: ["1", "2", "3"],
              sku: { name: "Standard", tier: "Regional" },
              publicIPAllocationMethod: "Static",
              publicIPAddressVersion: "IPv4",
            },
            o,
          )
          .submitted(),
      );
    const ip = await waitSucceeded(`public IP ${n.ip}`, getIp, ctx, 10 * MINUTE);
    const lbId = `${spec.network.id.split("/providers/")[0]}/providers/Microsoft.Network/loadBalancers/${n.lb}`;
    const sub = (kind: string, name: string) => ({ id: `${lbId}/${kind}/${name}` });
    // Rancher's websockets want long idle connections: the TCP idle timeout goes up to 100 minutes.
    // https://learn.microsoft.com/en-us/azure/load-balancer/load-balancer-tcp-idle-timeout
    const idle = Math.min(100, Math.max(4, Math.ceil(spec.idleTimeoutSeconds / 60)));
    const hc = spec.healthCheck;
    const rule = (port: number) => ({
      name: `tcp-${port}`,
      frontendIPConfiguration: sub("frontendIPConfigurations", n.frontend),
      backendAddressPool: sub("backendAddressPools", n.pool),
      probe: sub("probes", n.probe),
      protocol: "Tcp" as const,
      frontendPort: port,
      backendPort: port,
      idleTimeoutInMinutes: idle,
      enableTcpReset: true,
      loadDistribution: "Default" as const,
      // The outbound rule does the nodes' SNAT.
      disableOutboundSnat: true,
    });
    await azureCall(`Network LoadBalancers_CreateOrUpdate (${n.lb})`, ctx, (o) =>
      net.loadBalancers
        .createOrUpdate(
          rg,
          n.lb,
          {
            location: ctx.region,
            tags: { ...ctx.tags },
            sku: { name: "Standard", tier: "Regional" },
            frontendIPConfigurations: [{ name: n.frontend, publicIPAddress: { id: ip.id } }],
            backendAddressPools: [{ name: n.pool }],
            probes: [
              {
                name: n.probe,
                protocol: "Tcp",
                port: hc.port,
                intervalInSeconds: hc.intervalSeconds,
                numberOfProbes: hc.unhealthyThreshold,
                probeThreshold: hc.healthyThreshold,
              },
            ],
            loadBalancingRules: [rule(80), rule(443)],
            outboundRules: [
              {
                name: "egress",
                protocol: "All",
                frontendIPConfigurations: [sub("frontendIPConfigurations", n.frontend)],
                backendAddressPool: sub("backendAddressPools", n.pool),
                idleTimeoutInMinutes: 4,
                enableTcpReset: true,
              },
            ],
          },
          o,
        )
        .submitted(),
    );
    const lb = await waitSucceeded(`load balancer ${n.lb}`, getLb, ctx, 10 * MINUTE);
    return this.state(lb, ip.ipAddress);
  }

  async read(state: LoadBalancerState, ctx: ResourceContext): Promise<LoadBalancerState | undefined> {
    const { resourceGroup: rg, name } = parseId(state.id);
    const net = await this.clients.network();
    const lb = await orMissing(
      azureCall(`Network LoadBalancers_Get (${name})`, ctx, (o) => net.loadBalancers.get(rg, name, o)),
    );
    if (!lb) return undefined;
    const ip = await orMissing(
      azureCall(`Network PublicIPAddresses_Get (${lbNames(name).ip})`, ctx, (o) =>
        net.publicIPAddresses.get(rg, lbNames(name).ip, o),
      ),
    );
    return this.state(lb, ip?.ipAddress);
  }

  async delete(state: LoadBalancerState, ctx: ResourceContext): Promise<void> {
    const { resourceGroup: rg, name } = parseId(state.id);
    const n = lbNames(name);
    const net = await this.clients.network();
    const getLb = () =>
      orMissing(
        azureCall(`Network LoadBalancers_Get (${n.lb})`, ctx, (o) => net.loadBalancers.get(rg, n.lb, o)),
      );
    const lb = await getLb();
    if (lb) {
      assertOwned(lb.tags, ctx, `load balancer ${lb.id}`);
      // NICs still in the pool keep the balancer: take them out first.
      await setPool(this.clients, lb, [], ctx);
      await azureCall(`Network LoadBalancers_Delete (${n.lb})`, ctx, (o) =>
        net.loadBalancers.delete(rg, n.lb, o).submitted(),
      );
      await waitGone(`load balancer ${n.lb} to be deleted`, getLb, ctx, 10 * MINUTE);
    }
    const getIp = () =>
      orMissing(
        azureCall(`Network PublicIPAddresses_Get (${n.ip})`, ctx, (o) =>
          net.publicIPAddresses.get(rg, n.ip, o),
        ),
      );
    const ip = await getIp();
    if (ip) {
      assertOwned(ip.tags, ctx, `public IP ${ip.id}`);
      await azureCall(`Network PublicIPAddresses_Delete (${n.ip})`, ctx, (o) =>
        net.publicIPAddresses.delete(rg, n.ip, o).submitted(),
      );
      await waitGone(`public IP ${n.ip} to be deleted`, getIp, ctx, 10 * MINUTE);
    }
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<LoadBalancerState[]> {
    const rg = resourceGroupOf(this.options, ctx.cluster);
    const net = await this.clients.network();
    const all = await orMissing(
      azureCall(`Network LoadBalancers_List (${rg})`, ctx, () => collect(net.loadBalancers.list(rg))),
    );
    const out: LoadBalancerState[] = [];
    for (const lb of all ?? [])
      if (hasTags(lb.tags, tags)) out.push((await this.read(this.state(lb, undefined), ctx))!);
    return out;
  }

  /** Exactly these nodes' NICs in the backend pool (others taken out), then which of them the probes pass. */
  async setTargets(
    lb: LoadBalancerState,
    nodes: readonly NodeState[],
    ctx: ResourceContext,
  ): Promise<TargetsState> {
    const { resourceGroup: rg, name } = parseId(lb.id);
    const net = await this.clients.network();
    const live = await azureCall(`Network LoadBalancers_Get (${name})`, ctx, (o) =>
      net.loadBalancers.get(rg, name, o),
    );
    await setPool(
      this.clients,
      live,
      nodes.map((n) => n.id),
      ctx,
    );
    return (await this.getTargets(lb, ctx)) ?? { id: lb.id, nodeIds: [] };
  }

  async getTargets(lb: LoadBalancerState, ctx: ResourceContext): Promise<TargetsState | undefined> {
    const { resourceGroup: rg, name } = parseId(lb.id);
    const net = await this.clients.network();
    const live = await orMissing(
      azureCall(`Network LoadBalancers_Get (${name})`, ctx, (o) => net.loadBalancers.get(rg, name, o)),
    );
    if (!live) return undefined;
    const members = await poolMembers(this.clients, live, ctx);
    const healthy = await healthOf(this.clients, live, members, ctx);
    return { id: lb.id, nodeIds: members.map((m) => m.vmId).sort(), healthy };
  }

  private state(lb: LoadBalancer, ip: string | undefined): LoadBalancerState {
    const ps = lb.provisioningState ?? "Succeeded";
    return {
      id: lb.id ?? "",
      name: lb.name ?? "",
      mode: "l4",
      ips: ip ? [ip] : [],
      // ARM's provisioning state, as the portal shows it: `succeeded` once the balancer serves.
      status: ps.toLowerCase(),
    };
  }
}

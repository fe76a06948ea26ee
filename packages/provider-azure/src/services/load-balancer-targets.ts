import type { LoadBalancer, NetworkInterface } from "@azure/arm-network";
import type { ResourceContext } from "@k3sinfra/core";
import { azureCall, azureOperation } from "../call.js";
import type { AzureClients } from "../clients.js";
import { parseId } from "../naming.js";
import { getNic, putNic } from "./nic.js";

const lower = (s: string | undefined) => (s ?? "").toLowerCase();

/** A NIC in the backend pool, with the VM it belongs to. */
export interface PoolMember {
  readonly nicId: string;
  readonly ipConfigId: string;
  readonly vmId: string;
}

const poolIdOf = (lb: LoadBalancer) => lb.backendAddressPools?.[0]?.id ?? "";

/** The NICs the pool holds now (from the balancer's view of its backend IP configurations). */
export async function poolMembers(
  clients: AzureClients,
  lb: LoadBalancer,
  ctx: ResourceContext,
): Promise<PoolMember[]> {
  const out: PoolMember[] = [];
  for (const c of lb.backendAddressPools?.[0]?.backendIPConfigurations ?? []) {
    const ipConfigId = c.id ?? "";
    const nicId = ipConfigId.split("/ipConfigurations/")[0] ?? "";
    const { resourceGroup, name } = parseId(nicId);
    const nic = await getNic(clients, resourceGroup, name, ctx);
    if (nic?.virtualMachine?.id) out.push({ nicId, ipConfigId, vmId: nic.virtualMachine.id });
  }
  return out;
}

/** Puts exactly the NICs of `vmIds` into the pool, taking every other member out. */
export async function setPool(
  clients: AzureClients,
  lb: LoadBalancer,
  vmIds: readonly string[],
  ctx: ResourceContext,
): Promise<void> {
  const net = await clients.network();
  const compute = await clients.compute();
  const pool = poolIdOf(lb);
  const wanted = new Set(vmIds.map(lower));
  const nics = new Map<string, NetworkInterface>();
  for (const m of await poolMembers(clients, lb, ctx)) {
    const { resourceGroup, name } = parseId(m.nicId);
    nics.set(
      lower(m.nicId),
      await azureCall(`Network NetworkInterfaces_Get (${name})`, ctx, (o) =>
        net.networkInterfaces.get(resourceGroup, name, o),
      ),
    );
  }
  for (const vmId of vmIds) {
    const { resourceGroup, name } = parseId(vmId);
    const vm = await azureCall(`Compute VirtualMachines_Get (${name})`, ctx, (o) =>
      compute.virtualMachines.get(resourceGroup, name, o),
    );
    const nicId = vm.networkProfile?.networkInterfaces?.[0]?.id ?? "";
    const nicName = parseId(nicId).name;
    if (!nics.has(lower(nicId)))
      nics.set(
        lower(nicId),
        await azureCall(`Network NetworkInterfaces_Get (${nicName})`, ctx, (o) =>
          net.networkInterfaces.get(resourceGroup, nicName, o),
        ),
      );
  }
  for (const nic of nics.values()) {
    const { resourceGroup, name } = parseId(nic.id ?? "");
    const inPool = wanted.has(lower(nic.virtualMachine?.id));
    const configs = (nic.ipConfigurations ?? []).map((c, i) => {
      const others = (c.loadBalancerBackendAddressPools ?? []).filter((p) => lower(p.id) !== lower(pool));
      return {
        ...c,
        loadBalancerBackendAddressPools: inPool && i === 0 ? [...others, { id: pool }] : others,
      };
    });
    const now = (nic.ipConfigurations?.[0]?.loadBalancerBackendAddressPools ?? []).some(
      (p) => lower(p.id) === lower(pool),
    );
    if (now === inPool) continue;
    await putNic(clients, resourceGroup, name, { ...nic, ipConfigurations: configs }, ctx, "backend pool");
  }
}

/** The VMs whose probes pass on the HTTPS rule, from the balancer's per-rule health. */
export async function healthOf(
  clients: AzureClients,
  lb: LoadBalancer,
  members: readonly PoolMember[],
  ctx: ResourceContext,
): Promise<string[]> {
  if (members.length === 0) return [];
  const net = await clients.network();
  const { resourceGroup, name } = parseId(lb.id ?? "");
  // A POST answered 202 and a Location to poll (https://learn.microsoft.com/rest/api/load-balancer/load-balancer-load-balancing-rules/health).
  const health = await azureOperation(
    `Network LoadBalancerLoadBalancingRules_Health (${name}/tcp-443)`,
    ctx,
    (o) => net.loadBalancerLoadBalancingRules.beginHealth(resourceGroup, name, "tcp-443", o),
  );
  const up = new Set(
    (health?.loadBalancerBackendAddresses ?? [])
      .filter((a) => a.state === "Up")
      .map((a) => lower(a.networkInterfaceIPConfigurationId)),
  );
  return members
    .filter((m) => up.has(lower(m.ipConfigId)))
    .map((m) => m.vmId)
    .sort();
}

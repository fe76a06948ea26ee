import type { NetworkSecurityGroup } from "@azure/arm-network";
import type { NetworkSpec, ResourceContext } from "@k3sinfra/core";
import { azureCall, orMissing } from "../call.js";
import type { AzureClients } from "../clients.js";
import { assertOwned } from "../naming.js";
import { deleteWhenFree, waitGone, waitSucceeded } from "./arm-wait.js";
import { type GroupSources, nsgRules } from "./nsg-rules.js";

const MINUTE = 60_000;

/** One NSG of the cluster's resource group, or `undefined`. */
export async function getNsg(
  clients: AzureClients,
  rg: string,
  name: string,
  ctx: ResourceContext,
): Promise<NetworkSecurityGroup | undefined> {
  const net = await clients.network();
  return orMissing(
    azureCall(`Network NetworkSecurityGroups_Get (${name})`, ctx, (o) =>
      net.networkSecurityGroups.get(rg, name, o),
    ),
  );
}

/** PUTs one NSG with exactly the spec's rules for its group (a PUT replaces the rule list) and waits for it. */
export async function putNsg(
  clients: AzureClients,
  rg: string,
  name: string,
  spec: NetworkSpec,
  group: "nodes" | "datastore",
  sources: GroupSources,
  ctx: ResourceContext,
): Promise<string> {
  const net = await clients.network();
  const found = await getNsg(clients, rg, name, ctx);
  if (found) assertOwned(found.tags, ctx, `network security group ${found.id}`);
  await azureCall(`Network NetworkSecurityGroups_CreateOrUpdate (${name})`, ctx, (o) =>
    net.networkSecurityGroups
      .createOrUpdate(
        rg,
        name,
        { location: ctx.region, tags: { ...ctx.tags }, securityRules: nsgRules(spec.rules, group, sources) },
        o,
      )
      .submitted(),
  );
  const nsg = await waitSucceeded(
    `network security group ${name}`,
    () => getNsg(clients, rg, name, ctx),
    ctx,
    10 * MINUTE,
  );
  return nsg.id ?? "";
}

/**
 * Deletes one of the cluster's NSGs; a missing one is fine. An NSG is refused while a subnet or NIC still
 * holds it (NICs leave asynchronously after their VMs), so "in use" is waited out, not failed on.
 */
export async function deleteNsg(
  clients: AzureClients,
  rg: string,
  name: string,
  ctx: ResourceContext,
): Promise<void> {
  const found = await getNsg(clients, rg, name, ctx);
  if (!found) return;
  assertOwned(found.tags, ctx, `network security group ${found.id}`);
  const net = await clients.network();
  await deleteWhenFree(
    `network security group ${name}`,
    () =>
      azureCall(`Network NetworkSecurityGroups_Delete (${name})`, ctx, (o) =>
        net.networkSecurityGroups.delete(rg, name, o).submitted(),
      ),
    ctx,
    20 * MINUTE,
  );
  await waitGone(
    `network security group ${name} to be deleted`,
    () => getNsg(clients, rg, name, ctx),
    ctx,
    10 * MINUTE,
  );
}

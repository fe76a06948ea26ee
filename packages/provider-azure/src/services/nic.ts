import type { NetworkInterface } from "@azure/arm-network";
import type { ResourceContext } from "@k3sinfra/core";
import { azureCall, orMissing } from "../call.js";
import type { AzureClients } from "../clients.js";
import { waitSucceeded } from "./arm-wait.js";

const MINUTE = 60_000;

/** One network interface, or `undefined`. */
export async function getNic(
  clients: AzureClients,
  rg: string,
  name: string,
  ctx: ResourceContext,
): Promise<NetworkInterface | undefined> {
  const net = await clients.network();
  return orMissing(
    azureCall(`Network NetworkInterfaces_Get (${name})`, ctx, (o) => net.networkInterfaces.get(rg, name, o)),
  );
}

/**
 * PUTs a network interface and waits until it has Succeeded. A NIC PUT replaces what its body leaves out, so a
 * change to an existing NIC sends its whole body as read. `why` names the change in the operation, e.g. `NSG`.
 */
export async function putNic(
  clients: AzureClients,
  rg: string,
  name: string,
  body: NetworkInterface,
  ctx: ResourceContext,
  why?: string,
): Promise<NetworkInterface> {
  const net = await clients.network();
  await azureCall(`Network NetworkInterfaces_CreateOrUpdate (${name}${why ? `, ${why}` : ""})`, ctx, (o) =>
    net.networkInterfaces.createOrUpdate(rg, name, body, o).submitted(),
  );
  return waitSucceeded(`network interface ${name}`, () => getNic(clients, rg, name, ctx), ctx, 10 * MINUTE);
}

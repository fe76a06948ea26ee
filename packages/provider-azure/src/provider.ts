import {
  defineProvider,
  type ProviderContext,
  type ProviderServices,
  type ServiceKind,
} from "@k3sinfra/core";
import { azureCapabilities } from "./capabilities.js";
import { AzureClients, clientSettings } from "./clients.js";
import { type AzureOptions, parseAzureOptions } from "./options.js";
import { AzureNetworkService } from "./services/network.js";

/** The services of one cluster, and the clients they share (core hands the whole object back to `preflight`). */
export interface AzureServices extends ProviderServices {
  readonly clients: AzureClients;
}

/**
 * The package's one composition root: the Azure clients and one service per requested role, as plain
 * objects. Nothing calls Azure here, and no SDK loads until a service does.
 */
function services(ctx: ProviderContext<AzureOptions>): AzureServices {
  const clients = new AzureClients(clientSettings(ctx.options, ctx.env));
  const has = (role: ServiceKind) => ctx.roles.includes(role);
  return {
    clients,
    network: has("network") ? new AzureNetworkService(clients, ctx.options) : undefined,
  };
}

/** The Azure provider: VMs across zones, MySQL flexible server, a Standard Load Balancer, Azure DNS. */
export const azure = defineProvider<AzureOptions, AzureServices>({
  contractVersion: 2,
  name: "azure",
  capabilities: azureCapabilities,
  parseOptions: parseAzureOptions,
  services,
});

import {
  defineProvider,
  type ProviderContext,
  type ProviderServices,
  type ServiceKind,
} from "@k3sinfra/core";
import { azureCapabilities } from "./capabilities.js";
import { AzureClients, clientSettings } from "./clients.js";
import { AZURE_METADATA_READER } from "./metadata-reader.js";
import { azureSecretReader } from "./node-reader.js";
import { type AzureOptions, parseAzureOptions } from "./options.js";
import { azurePreflight } from "./preflight.js";
import { AzureDatastoreService } from "./services/datastore.js";
import { AzureDnsRecordService } from "./services/dns.js";
import { AzureNodeIdentity } from "./services/identity.js";
import { AzureLoadBalancerService } from "./services/load-balancer.js";
import { AzureNetworkService } from "./services/network.js";
import { AzureNodeService } from "./services/nodes.js";
import { AzureSecretStore } from "./services/secrets.js";

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
    // With the secret store, the network makes the nodes' managed identity (the nodes then run as it).
    network: has("network")
      ? new AzureNetworkService(
          clients,
          ctx.options,
          has("secretStore") ? new AzureNodeIdentity(clients, ctx.options) : undefined,
        )
      : undefined,
    nodes: has("nodes") ? new AzureNodeService(clients, ctx.options) : undefined,
    datastore: has("datastore")
      ? new AzureDatastoreService(clients, ctx.options, { databaseName: ctx.config.datastore.databaseName })
      : undefined,
    loadBalancer: has("loadBalancer") ? new AzureLoadBalancerService(clients, ctx.options) : undefined,
    dns: has("dns") ? new AzureDnsRecordService(clients, ctx.options, ctx.config.dns.zone) : undefined,
    secretStore: has("secretStore") ? new AzureSecretStore(clients, ctx.options) : undefined,
  };
}

/** The Azure provider: VMs across zones, MySQL flexible server, a Standard Load Balancer, Azure DNS, Key Vault. */
export const azure = defineProvider<AzureOptions, AzureServices>({
  contractVersion: 2,
  name: "azure",
  capabilities: azureCapabilities,
  // Nodes read published values from their own tags through the Instance Metadata Service.
  metadataReader: AZURE_METADATA_READER,
  // Nodes read their secrets from the cluster's Key Vault with their managed identity.
  secretReader: azureSecretReader,
  // Flexible servers present certificates chaining to DigiCert Global Root G2; nodes fetch it and verify.
  // https://learn.microsoft.com/en-us/azure/mysql/flexible-server/how-to-connect-tls-ssl#download-the-public-ssl-certificate
  datastoreCaUrl: () => "https://cacerts.digicert.com/DigiCertGlobalRootG2.crt.pem",
  // The serial console's boot diagnostics show the boot script's stage lines without logging in.
  bootLogCommand: (node) => `az vm boot-diagnostics get-boot-log --ids ${node.id}`,
  parseOptions: parseAzureOptions,
  services,
  // Read-only checks before anything is created: credentials and subscription, the resource group, the DNS zone.
  preflight: (built, ctx, signal) =>
    azurePreflight({
      clients: built.clients,
      config: ctx.config,
      options: ctx.options,
      roles: ctx.roles,
      signal,
      operation: ctx.operation,
    }),
});

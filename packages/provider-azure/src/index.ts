// @k3sinfra/provider-azure. Importing it loads no Azure SDK: each client loads on first use.
export { AZURE_ZONES, azureCapabilities } from "./capabilities.js";
export { type AzureClientSettings, AzureClients, clientSettings } from "./clients.js";
export { azureCode, hasAzureCode, mapAzureError } from "./errors.js";
export { AZURE_METADATA_READER } from "./metadata-reader.js";
export { azureSecretReader } from "./node-reader.js";
export { type AzureOptions, parseAzureOptions } from "./options.js";
export { type AzureServices, azure, azure as default } from "./provider.js";
export {
  AzureDatastoreService,
  MYSQL_VERSIONS,
  PROTECTION_TAG,
  privateZoneOf,
} from "./services/datastore.js";
export { AzureDnsRecordService } from "./services/dns.js";
export { AzureNodeIdentity, identityName } from "./services/identity.js";
export { AzureLoadBalancerService } from "./services/load-balancer.js";
export { AzureNetworkService } from "./services/network.js";
export { AzureNodeService, PUBLISH_PREFIX } from "./services/nodes.js";
export { AzureSecretStore } from "./services/secrets.js";
export { SECRETS_OFFICER, SECRETS_USER, vaultNameOf } from "./services/vault.js";
export { datastoreSku, IMAGES, vmSize } from "./sizing.js";

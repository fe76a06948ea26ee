// @k3sinfra/provider-gcp. Importing it loads no Google client: each service imports its client on first use.
export { GCP_ZONES, gcpCapabilities } from "./capabilities.js";
export { type GcpClientSettings, GcpClients } from "./clients.js";
export { mapGoogleError } from "./errors.js";
export { describeOwned, markerLabels, toLabels } from "./labels.js";
export { GCP_METADATA_READER } from "./metadata-reader.js";
export { requestId } from "./operations.js";
export { type GcpOptions, parseGcpOptions } from "./options.js";
export { gcpPreflight } from "./preflight.js";
export { type GcpServices, gcp, gcp as default, gcpClientSettings } from "./provider.js";
export { GcpDatastoreService, sqlTier } from "./services/datastore.js";
export { GcpDnsRecordService, HERITAGE_PREFIX } from "./services/dns.js";
export { GcpLoadBalancerService, l4Names } from "./services/load-balancer.js";
export { GFE_RANGES, l7Names } from "./services/load-balancer-l7.js";
export { GcpNetworkService } from "./services/network.js";
export { GcpNodeService, PUBLISH_PREFIX } from "./services/nodes.js";
export { imageFor, machineTypeFor } from "./sizing.js";

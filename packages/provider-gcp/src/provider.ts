import {
  defineProvider,
  type ProviderContext,
  type ProviderServices,
  type ServiceKind,
} from "@k3sinfra/core";
import { gcpCapabilities } from "./capabilities.js";
import { GcpClients } from "./clients.js";
import { GCP_METADATA_READER } from "./metadata-reader.js";
import { gcpSecretReader } from "./node-reader.js";
import { type GcpOptions, parseGcpOptions } from "./options.js";
import { gcpPreflight } from "./preflight.js";
import { GcpDatastoreService } from "./services/datastore.js";
import { GcpDnsRecordService } from "./services/dns.js";
import { GcpLoadBalancerService } from "./services/load-balancer.js";
import { GcpNetworkService } from "./services/network.js";
import { GcpNodeService } from "./services/nodes.js";
import { GcpSecretStore } from "./services/secrets.js";

/** The services of one cluster, and the clients they share (core hands the object back to `preflight`). */
export interface GcpServices extends ProviderServices {
  readonly clients: GcpClients;
}

/** Client settings from the options and the provider context's environment: explicit values win. */
export const gcpClientSettings = (
  options: GcpOptions,
  env: Readonly<Record<string, string | undefined>>,
) => ({
  endpoint: options.endpoint ?? (env.K3SINFRA_GCP_ENDPOINT || undefined),
  keyFilename: env.GOOGLE_APPLICATION_CREDENTIALS || undefined,
  project: options.project ?? (env.GOOGLE_CLOUD_PROJECT || env.CLOUDSDK_CORE_PROJECT || undefined),
});

/** The composition root: clients and one service per role, as plain objects. Nothing calls Google here. */
function services(ctx: ProviderContext<GcpOptions>): GcpServices {
  const clients = new GcpClients(gcpClientSettings(ctx.options, ctx.env));
  const has = (role: ServiceKind) => ctx.roles.includes(role);
  return {
    clients,
    network: has("network") ? new GcpNetworkService(clients, ctx.options) : undefined,
    nodes: has("nodes") ? new GcpNodeService(clients, ctx.options) : undefined,
    datastore: has("datastore")
      ? new GcpDatastoreService(clients, { databaseName: ctx.config.datastore?.databaseName })
      : undefined,
    loadBalancer: has("loadBalancer")
      ? new GcpLoadBalancerService(clients, ctx.config.rancher?.hostname)
      : undefined,
    secretStore: has("secretStore") ? new GcpSecretStore(clients) : undefined,
    dns: has("dns") ? new GcpDnsRecordService(clients, ctx.options, ctx.config.dns?.zone ?? "") : undefined,
  };
}

/** The Google Cloud provider: Compute Engine nodes, Cloud SQL for MySQL, an L4 or L7 load balancer, Cloud DNS. */
/** An instance's project, zone and name from its id (`projects/<p>/zones/<z>/instances/<name>`). */
const instanceRef = (id: string) => {
  const [, project, , zone, , name] = id.split("/");
  return { project, zone, name };
};

export const gcp = defineProvider<GcpOptions, GcpServices>({
  contractVersion: 2,
  name: "gcp",
  capabilities: gcpCapabilities,
  // Nodes read published values from instance metadata attributes `k3sinfra-<key>`.
  metadataReader: GCP_METADATA_READER,
  // Nodes read their secrets from Secret Manager with their service account (curl and the metadata token).
  secretReader: gcpSecretReader,
  // The serial console shows the boot script's stage lines without logging in
  // (https://cloud.google.com/compute/docs/troubleshooting/viewing-serial-port-output).
  bootLogCommand: (node) => {
    const { project, zone, name } = instanceRef(node.id);
    return `gcloud compute instances get-serial-port-output ${name} --zone ${zone} --project ${project}`;
  },
  // IAP TCP forwarding to the server's API port; the network admits IAP's range on it (firewalls.ts)
  // (https://cloud.google.com/sdk/gcloud/reference/compute/start-iap-tunnel).
  apiTunnel: (node, port) => {
    const { project, zone, name } = instanceRef(node.id);
    return `gcloud compute start-iap-tunnel ${name} ${port} --local-host-port=localhost:${port} --zone ${zone} --project ${project}`;
  },
  parseOptions: parseGcpOptions,
  services,
  preflight: (built, ctx, signal) => gcpPreflight(built.clients, ctx, signal),
});

import {
  defineProvider,
  type ProviderContext,
  type ProviderServices,
  type ServiceKind,
} from "@k3sinfra/core";
import { awsCapabilities } from "./capabilities.js";
import { type AwsClients, clientSettings, LazyAwsClients } from "./clients.js";
import { AWS_METADATA_READER } from "./metadata-reader.js";
import { awsSecretReader } from "./node-reader/index.js";
import { type AwsOptions, parseAwsOptions } from "./options.js";
import { awsPreflight } from "./preflight/index.js";
import { awsRdsCaUrl } from "./rds-ca.js";
import { AwsDatastoreService } from "./services/datastore.js";
import { AwsDnsRecordService } from "./services/dns.js";
import { AwsLoadBalancerService } from "./services/load-balancer.js";
import { AwsNetworkService } from "./services/network.js";
import { AwsNodeService } from "./services/nodes.js";
import { AwsSecretStore } from "./services/secrets.js";
import { s3StateBackend } from "./state/index.js";
import { validateAwsConfig } from "./validate.js";

/** The services of one cluster, and the clients they share (core hands the whole object back to `preflight`). */
export interface AwsServices extends ProviderServices {
  readonly clients: AwsClients;
}

/**
 * The package's one composition root: the AWS clients and one service per requested role, as plain objects
 * (core registers them). Nothing calls AWS here, and no SDK loads until a service does.
 */
function services(ctx: ProviderContext<AwsOptions>): AwsServices {
  const clients = new LazyAwsClients(clientSettings(ctx.config.region, ctx.options.endpoint, ctx.env));
  const options = ctx.options;
  const has = (role: ServiceKind) => ctx.roles.includes(role);
  return {
    clients,
    network: has("network") ? new AwsNetworkService(clients, options) : undefined,
    nodes: has("nodes") ? new AwsNodeService(clients, options) : undefined,
    datastore: has("datastore")
      ? new AwsDatastoreService(clients, options, { databaseName: ctx.config.datastore.databaseName })
      : undefined,
    loadBalancer: has("loadBalancer") ? new AwsLoadBalancerService(clients, options) : undefined,
    dns: has("dns") ? new AwsDnsRecordService(clients, options, ctx.config.dns.zone) : undefined,
    secretStore: has("secretStore") ? new AwsSecretStore(clients) : undefined,
  };
}

/**
 * The cloud preflight (./preflight): read-only checks in parallel — credentials, zones, instance type
 * offerings, the image, the engine version, the L7 certificate, the DNS zone — all issues reported together.
 */
async function preflight(
  built: AwsServices,
  ctx: ProviderContext<AwsOptions>,
  signal: AbortSignal,
): Promise<void> {
  await awsPreflight({
    clients: built.clients,
    config: ctx.config,
    options: ctx.options,
    roles: ctx.roles,
    call: { signal },
    operation: ctx.operation,
  });
}

/** The AWS provider: EC2 nodes, RDS MySQL, an NLB or ALB, Route 53, in the default VPC or yours. */
export const aws = defineProvider<AwsOptions, AwsServices>({
  contractVersion: 2,
  name: "aws",
  capabilities: awsCapabilities,
  // Nodes read published values from IMDSv2 instance tags (InstanceMetadataTags is enabled on launch).
  metadataReader: AWS_METADATA_READER,
  // Nodes read their secrets from SSM with their instance role: a Python SigV4 client from the standard library.
  secretReader: awsSecretReader,
  // RDS presents certificates from the regional RDS CA; nodes fetch the bundle and verify with it.
  datastoreCaUrl: awsRdsCaUrl,
  // state: { backend: s3 }: shared state in a bucket, locked with conditional writes (state/).
  stateBackends: { s3: s3StateBackend },
  // 6443 is closed unless nodes.adminCidrs opens it: Session Manager forwards it through the node's agent
  // (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-sessions-start.html#sessions-start-port-forwarding).
  apiTunnel: (node, port, region) =>
    `aws ssm start-session --region ${region} --target ${node.id} --document-name AWS-StartPortForwardingSession --parameters portNumber=${port},localPortNumber=${port}`,
  // The serial console shows the boot script's stage lines without logging in.
  bootLogCommand: (node, region) =>
    `aws ec2 get-console-output --region ${region} --instance-id ${node.id} --latest --output text`,
  parseOptions: parseAwsOptions,
  validate: validateAwsConfig,
  services,
  preflight,
});

import {
  AWS_METADATA_READER,
  awsRdsCaUrl,
  type ClusterConfig,
  DatastoreService,
  DnsRecordService,
  defineProvider,
  InvalidConfigError,
  LoadBalancerService,
  NetworkService,
  NodeService,
  type ProviderContext,
} from "@k3sinfra/core";
import type { DependencyContainer } from "tsyringe";
import { awsCall } from "./call.js";
import { awsCapabilities } from "./capabilities.js";
import { AwsClients, clientSettings, LazyAwsClients } from "./clients.js";
import { type AwsOptions, parseAwsOptions } from "./options.js";
import { AwsDatastoreService } from "./services/datastore.js";
import { AwsDnsRecordService } from "./services/dns.js";
import { AwsLoadBalancerService } from "./services/load-balancer.js";
import { AwsNetworkService } from "./services/network.js";
import { AwsNodeService } from "./services/nodes.js";
import { validateAwsConfig } from "./validate.js";

/** A factory that builds its value on the first resolve and returns it after (once per registration). */
const once = <T>(make: () => T) => {
  let value: T | undefined;
  return { useFactory: () => (value ??= make()) };
};

/** The clients a context's container should use: the registered ones, or new ones for a bare container. */
const clientsFor = (container: DependencyContainer, ctx: ProviderContext<AwsOptions>): AwsClients =>
  container.isRegistered(AwsClients, true)
    ? container.resolve(AwsClients)
    : new LazyAwsClients(clientSettings(ctx.config.region, ctx.options.endpoint, ctx.env));

/**
 * The package's one composition root: puts the AWS clients and one service per requested role into the
 * cluster's container. Nothing is constructed until resolved, and no SDK loads until a service calls AWS.
 */
function register(container: DependencyContainer, ctx: ProviderContext<AwsOptions>): void {
  const clients = new LazyAwsClients(clientSettings(ctx.config.region, ctx.options.endpoint, ctx.env));
  container.register(AwsClients, { useValue: clients });
  const options = ctx.options;
  for (const role of ctx.roles) {
    switch (role) {
      case "network":
        container.register(
          NetworkService,
          once(() => new AwsNetworkService(clients, options)),
        );
        break;
      case "nodes":
        container.register(
          NodeService,
          once(() => new AwsNodeService(clients, options)),
        );
        break;
      case "datastore":
        container.register(
          DatastoreService,
          once(
            () =>
              new AwsDatastoreService(clients, options, { databaseName: ctx.config.datastore.databaseName }),
          ),
        );
        break;
      case "loadBalancer":
        container.register(
          LoadBalancerService,
          once(() => new AwsLoadBalancerService(clients, options)),
        );
        break;
      case "dns":
        container.register(
          DnsRecordService,
          once(() => new AwsDnsRecordService(clients, options, ctx.config.dns.zone)),
        );
        break;
    }
  }
}

/**
 * One cheap authenticated call per AWS API in use: EC2 DescribeAvailabilityZones (which also checks the
 * configured zones exist) and, when Route 53 serves the DNS role, the hosted zone lookup.
 */
async function preflight(
  container: DependencyContainer,
  ctx: ProviderContext<AwsOptions>,
  signal: AbortSignal,
): Promise<void> {
  const clients = clientsFor(container, ctx);
  const config: ClusterConfig = ctx.config;
  if (ctx.roles.some((r) => r !== "dns")) {
    const ec2 = await clients.ec2();
    const out = await awsCall("EC2 DescribeAvailabilityZones", { signal }, (o) =>
      ec2.describeAvailabilityZones({ Filters: [{ Name: "region-name", Values: [config.region] }] }, o),
    );
    const known = new Set((out.AvailabilityZones ?? []).map((z) => z.ZoneName));
    const missing = (config.zones ?? []).filter((z) => !known.has(z));
    if (missing.length > 0)
      throw new InvalidConfigError([
        {
          path: "zones",
          message: `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not available to this account in ${config.region}; available: ${[...known].sort().join(", ")}`,
        },
      ]);
  }
  if (ctx.roles.includes("dns")) {
    await new AwsDnsRecordService(clients, ctx.options, config.dns.zone).zoneId(config.dns.zone, { signal });
  }
}

/** The AWS provider: EC2 nodes, RDS MySQL, an NLB or ALB, Route 53, in the default VPC or yours. */
export const aws = defineProvider<AwsOptions>({
  name: "aws",
  capabilities: awsCapabilities,
  // Nodes read published values from IMDSv2 instance tags (InstanceMetadataTags is enabled on launch).
  metadataReader: AWS_METADATA_READER,
  // RDS presents certificates from the regional RDS CA; nodes fetch the bundle and verify with it.
  datastoreCaUrl: awsRdsCaUrl,
  parseOptions: parseAwsOptions,
  validate: validateAwsConfig,
  register,
  preflight,
});

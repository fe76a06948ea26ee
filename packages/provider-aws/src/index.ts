// @k3sinfra/provider-aws. Importing it loads no AWS SDK: each service imports its client on first use.
export { AWS_ZONES, awsCapabilities } from "./capabilities.js";
export { type AwsClientSettings, AwsClients, LazyAwsClients } from "./clients.js";
export { awsCodes, hasAwsCode, mapAwsError } from "./errors.js";
export { AWS_METADATA_READER } from "./metadata-reader.js";
export {
  awsSecretReader,
  SSM_CLIENT_PATH,
  SSM_CLIENT_PROGRAM,
  SSM_CLIENT_SOURCE,
} from "./node-reader/index.js";
export { type AwsOptions, parseAwsOptions } from "./options.js";
export { type AwsServices, aws, aws as default } from "./provider.js";
export { awsRdsCaUrl } from "./rds-ca.js";
export { AwsDatastoreService } from "./services/datastore.js";
export { AwsDnsRecordService, HERITAGE_PREFIX } from "./services/dns.js";
export { AwsLoadBalancerService } from "./services/load-balancer.js";
export { AwsNetworkService, assertSafeRules } from "./services/network.js";
export { AwsNodeService, PUBLISH_PREFIX } from "./services/nodes.js";
export { datastoreInstanceClass, nodeInstanceType } from "./sizing.js";
export {
  defaultStateKey,
  KmsKeyWrapper,
  parseS3StateOptions,
  S3LockBackend,
  S3StateBackend,
  type S3StateOptions,
  s3StateBackend,
} from "./state/index.js";
export { validateAwsConfig } from "./validate.js";

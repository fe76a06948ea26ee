/** The built-in clouds. Adding a cloud: a new folder exporting a CloudFactory, plus one line here. */
import { createAwsCloud } from "./aws/index.js";
import { createAzureCloud } from "./azure/index.js";
import { registerCloud } from "./cloud.js";
import { createCloudflareCloud } from "./cloudflare/index.js";
import { createGcpCloud } from "./gcp/index.js";

registerCloud("aws", createAwsCloud);
registerCloud("azure", createAzureCloud);
registerCloud("cloudflare", createCloudflareCloud);
registerCloud("gcp", createGcpCloud);

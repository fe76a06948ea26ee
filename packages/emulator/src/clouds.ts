/**
 * The built-in clouds, each imported when an emulator first serves it. Adding a cloud: a new folder exporting a
 * CloudFactory, plus one line here.
 */
import { registerCloudLoader } from "./cloud.js";

registerCloudLoader("aws", async () => (await import("./aws/index.js")).createAwsCloud);
registerCloudLoader("azure", async () => (await import("./azure/index.js")).createAzureCloud);
registerCloudLoader("cloudflare", async () => (await import("./cloudflare/index.js")).createCloudflareCloud);
registerCloudLoader("gcp", async () => (await import("./gcp/index.js")).createGcpCloud);

// @k3sinfra/provider-cloudflare. Importing it loads no Cloudflare SDK: the client is imported on first use.
export { cfCall, MAX_RETRY_AFTER_SECONDS } from "./call.js";
export {
  CloudflareClient,
  type CloudflareSettings,
  cloudflareSettings,
  DEFAULT_BASE_URL,
  LazyCloudflareClient,
} from "./client.js";
export { CloudflareDnsRecordService, type CloudflareZone, PROXY_WARNING } from "./dns.js";
export { cloudflareCodes, mapCloudflareError, TOKEN_HELP } from "./errors.js";
export { type CloudflareOptions, parseCloudflareOptions } from "./options.js";
export { carries, ownershipComment, ownershipOf, ownershipTags } from "./ownership.js";
export {
  type CloudflareServices,
  cloudflare,
  cloudflare as default,
  cloudflareCapabilities,
  validateCloudflareConfig,
} from "./provider.js";

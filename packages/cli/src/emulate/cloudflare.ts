import type { EmulatedCloudModule } from "./types.js";

/** Cloudflare's v4 API, for DNS beside any cloud. */
export const cloudflareCloud: EmulatedCloudModule = {
  cloud: "cloudflare",
  providers: ["cloudflare"],
  compute: false,
  dns: true,
  realVars: ["CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL"],
  realOptions: ["apiToken", "baseUrl", "zoneId"],
  fixtures: ({ zone }) => (zone ? { cloudflare: { zones: [zone] } } : {}),
  env: (emulator) => ({
    CLOUDFLARE_API_TOKEN: emulator.credentials.cloudflare.apiToken,
    ...(emulator.endpoints.cloudflare ? { CLOUDFLARE_BASE_URL: emulator.endpoints.cloudflare } : {}),
  }),
};

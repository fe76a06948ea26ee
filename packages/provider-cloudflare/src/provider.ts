import {
  type ClusterConfig,
  type ConfigIssue,
  defineProvider,
  type ProviderCapabilities,
  type ProviderContext,
  type ProviderServices,
  type ServiceKind,
} from "@k3sinfra/core";
import { type CloudflareClient, cloudflareSettings, LazyCloudflareClient } from "./client.js";
import { CloudflareDnsRecordService } from "./dns.js";
import { type CloudflareOptions, parseCloudflareOptions } from "./options.js";

/** DNS only: A or CNAME records, optionally proxied; no ALIAS (that needs an LB in the same cloud). */
export const cloudflareCapabilities: ProviderCapabilities = {
  services: ["dns"],
  dnsRecordTypes: ["A", "CNAME"],
  dnsProxy: true,
  credentialEnv: ["CLOUDFLARE_API_TOKEN"],
};

/**
 * A proxied record puts Cloudflare's certificate in front of Rancher, which breaks the strict agent TLS Rancher
 * uses by default (https://developers.cloudflare.com/dns/proxy-status/limitations/), so it must be asked for twice.
 */
export function validateCloudflareConfig(
  config: ClusterConfig,
  options: CloudflareOptions,
  roles: readonly ServiceKind[],
): ConfigIssue[] {
  if (!roles.includes("dns") || !config.dns.proxied || options.allowProxied === true) return [];
  return [
    {
      path: "dns.proxied",
      message:
        "a proxied Cloudflare record terminates TLS with Cloudflare's certificate, which breaks Rancher's strict agent TLS; set dns.proxied: false (recommended), or set options.cloudflare.allowProxied: true if Rancher is configured to trust it",
    },
  ];
}

/** The DNS service of one cluster, and the client it uses (core hands the object back to `preflight`). */
export interface CloudflareServices extends ProviderServices {
  readonly client: CloudflareClient;
}

/** The package's one composition root: the lazy client and, for the DNS role, the DNS service. */
function services(ctx: ProviderContext<CloudflareOptions>): CloudflareServices {
  const client = new LazyCloudflareClient(cloudflareSettings(ctx.options, ctx.env));
  return {
    client,
    dns: ctx.roles.includes("dns")
      ? new CloudflareDnsRecordService(client, ctx.options, ctx.config.dns.zone)
      : undefined,
  };
}

/**
 * Checks the token with one cheap authenticated call, the zone lookup, before anything is created: a missing
 * or refused token is `AuthFailedError` naming CLOUDFLARE_API_TOKEN, a zone the token cannot see is a config
 * error on `dns.zone`.
 */
async function preflight(
  built: CloudflareServices,
  ctx: ProviderContext<CloudflareOptions>,
  signal: AbortSignal,
): Promise<void> {
  if (!ctx.roles.includes("dns")) return;
  await new CloudflareDnsRecordService(built.client, ctx.options, ctx.config.dns.zone).zone(
    ctx.config.dns.zone,
    {
      signal,
    },
  );
}

/** Cloudflare DNS for the Rancher hostname, with compute from any provider. */
export const cloudflare = defineProvider<CloudflareOptions, CloudflareServices>({
  contractVersion: 2,
  name: "cloudflare",
  capabilities: cloudflareCapabilities,
  parseOptions: parseCloudflareOptions,
  validate: validateCloudflareConfig,
  services,
  preflight,
});

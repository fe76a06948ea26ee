import { randomUUID } from "node:crypto";
import { type ClusterConfig, ClusterConfigSchema, type ResourceContext, type Tags } from "@k3sinfra/core";
import { makeContext } from "@k3sinfra/core/testing";
import { type Emulator, type EmulatorOptions, type InventoryItem, startEmulator } from "@k3sinfra/emulator";
import { type CloudflareOptions, type CloudflareServices, cloudflare } from "../src/index.js";

/** A config as core would validate it: AWS compute, Cloudflare DNS in `zone`. */
export const testConfig = (name: string, extra: { dns?: Record<string, unknown> } = {}): ClusterConfig =>
  ClusterConfigSchema.parse({
    name,
    provider: "aws",
    region: "us-east-1",
    dns: { provider: "cloudflare", zone: "example.com", ...extra.dns },
    rancher: { hostname: `rancher.${name}.example.com` },
  });

/** Starts the emulator with AWS and Cloudflare, `example.com` (Free) and `paid.example` (Pro) as zones. */
export const startCloud = (opts: EmulatorOptions = {}): Promise<Emulator> =>
  startEmulator({
    clouds: ["aws", "cloudflare"],
    timeScale: 0.001,
    log: () => undefined,
    fixtures: { cloudflare: { zones: ["example.com", { name: "paid.example", plan: "pro" }] } },
    ...opts,
  });

/** The environment a CLI run against this emulator would have. */
export const envFor = (emu: Emulator): Record<string, string> => ({
  CLOUDFLARE_API_TOKEN: emu.credentials.cloudflare.apiToken,
  CLOUDFLARE_BASE_URL: emu.endpoints.cloudflare ?? "",
});

/** Fresh services (as a new process would have): the Cloudflare DNS service and its client. */
export const servicesFor = (
  config: ClusterConfig,
  env: Record<string, string | undefined>,
  options: CloudflareOptions = {},
): CloudflareServices =>
  cloudflare.services({ config, options, roles: ["dns"], env, baseDir: process.cwd() });

/** A resource context for a cluster, with a report sink. */
export const ctxFor = (
  cluster: string,
  resource = "dns-record",
  onReport?: (m: string) => void,
): ResourceContext =>
  makeContext({
    cluster,
    resource,
    region: "us-east-1",
    lineage: randomUUID(),
    poll: { minDelayMs: 1, maxDelayMs: 5 },
    ...(onReport ? { onReport } : {}),
  });

/**
 * The back door: ownership as the emulator stores it, read from its inventory (each record's comment words
 * `key=value` and tags `name:value`), not through the provider.
 */
export const ownedIn = (emu: Emulator, tags: Tags): string[] =>
  emu
    .inventory({ cloud: "cloudflare" })
    .filter((item) => {
      const have = markers(item);
      return Object.entries(tags).every(([k, v]) => have[k] === v);
    })
    .map((item) => item.id);

const markers = (item: InventoryItem): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(item.tags))
    if (k.startsWith("k3sinfra-")) out[`k3sinfra:${k.slice("k3sinfra-".length)}`] = v;
  for (const word of (item.comment ?? "").split(" ")) {
    const [k, ...v] = word.split("=");
    if (k?.startsWith("k3sinfra:")) out[k] = v.join("=");
  }
  if (Object.keys(out).length > 0) out["k3sinfra:managed-by"] = "k3sinfra";
  return out;
};

import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ClusterConfig,
  type ClusterConfigInput,
  ClusterConfigSchema,
  firewallRules,
  type NetworkSpec,
  type ResourceContext,
  type ServiceKind,
} from "@k3sinfra/core";
import { makeContext } from "@k3sinfra/core/testing";
import { type Emulator, type EmulatorOptions, startEmulator } from "@k3sinfra/emulator";
import { type AzureOptions, type AzureServices, azure } from "../src/index.js";

export const REGION = "westeurope";
export const ZONES = ["1", "2"] as const;
export const DNS_RG = "dns";

/** A user's config for a cluster name, before validation. */
export const configInput = (name: string, extra: Record<string, unknown> = {}): ClusterConfigInput => ({
  name,
  provider: "azure",
  region: REGION,
  zones: [...ZONES],
  dns: { zone: "example.com" },
  rancher: { hostname: `rancher.${name}.example.com` },
  ...extra,
});

/** A config as core would validate it, for a cluster name. */
export const testConfig = (name: string, extra: Record<string, unknown> = {}): ClusterConfig =>
  ClusterConfigSchema.parse(configInput(name, extra));

/**
 * The environment a user of the emulator sets: the emulator's service principal, its token endpoint as the
 * authority host, ARM's endpoint and the CA that signed its certificate (written to a file, as a user would).
 */
export function azureEnv(e: Emulator): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-azure-ca-"));
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, e.caPem ?? "");
  const c = e.credentials.azure;
  return {
    AZURE_TENANT_ID: c.tenantId,
    AZURE_CLIENT_ID: c.clientId,
    AZURE_CLIENT_SECRET: c.clientSecret,
    AZURE_SUBSCRIPTION_ID: c.subscriptionId,
    AZURE_AUTHORITY_HOST: e.endpoints.azure ?? "",
    AZURE_RESOURCE_MANAGER_ENDPOINT: e.endpoints.azure ?? "",
    AZURE_CA_FILE: caFile,
  };
}

export const startAzureEmulator = (options: EmulatorOptions = {}): Promise<Emulator> =>
  startEmulator({
    clouds: ["azure"],
    timeScale: 0.001,
    seed: 5,
    fixtures: { azure: { dnsZones: [{ zone: "example.com", resourceGroup: DNS_RG }] } },
    log: () => undefined,
    ...options,
  });

/** One emulator per test file, and a way to build the Azure services against it through `azure.services`. */
export interface Harness {
  readonly emulator: Emulator;
  readonly env: Record<string, string>;
  readonly cluster: string;
  readonly config: ClusterConfig;
  services(options?: AzureOptions, roles?: readonly ServiceKind[]): AzureServices;
  ctx(resource: string, overrides?: Partial<ResourceContext>): ResourceContext;
  stop(): Promise<void>;
}

export async function startHarness(options: EmulatorOptions = {}, cluster = "tst"): Promise<Harness> {
  const emulator = await startAzureEmulator(options);
  const env = azureEnv(emulator);
  const config = testConfig(cluster);
  const lineage = randomUUID();
  return {
    emulator,
    env,
    cluster,
    config,
    services: (opts = {}, roles = ["network", "nodes", "datastore"]) =>
      azure.services({ config, options: opts, roles, env, baseDir: process.cwd() }),
    ctx: (resource, overrides = {}) => ({
      ...makeContext({ cluster, resource, region: REGION, lineage, poll: { minDelayMs: 5, maxDelayMs: 50 } }),
      ...overrides,
    }),
    stop: () => emulator.stop(),
  };
}

/** The network spec core would build for an L4 cluster. */
export const networkSpec = (adminCidrs: string[] = []): NetworkSpec => ({
  zones: [...ZONES],
  rules: firewallRules({ mode: "l4", clientCidrs: ["0.0.0.0/0"], adminCidrs, ssh: adminCidrs.length > 0 }),
});

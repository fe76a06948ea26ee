import { randomUUID } from "node:crypto";
import {
  type ClusterConfig,
  ClusterConfigSchema,
  firewallRules,
  type NetworkSpec,
  type ResourceContext,
  type ServiceKind,
} from "@k3sinfra/core";
import { serviceTokens } from "@k3sinfra/core/internal";
import { makeContext } from "@k3sinfra/core/testing";
import { type Emulator, type EmulatorOptions, startEmulator } from "@k3sinfra/emulator";
import { container, type DependencyContainer } from "tsyringe";
import { AwsClients, type AwsOptions, type AwsServices, aws } from "../src/index.js";

export const REGION = "us-east-1";
export const ZONES = ["us-east-1a", "us-east-1b"] as const;
export const ALL_ROLES: readonly ServiceKind[] = ["network", "nodes", "datastore", "loadBalancer", "dns"];
export const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0b7f4c38-1f4a-4d5e-9a51-1c2d3e4f5a6b";

/** A config as core would validate it, for a cluster name. */
export const testConfig = (name: string, extra: Record<string, unknown> = {}): ClusterConfig =>
  ClusterConfigSchema.parse({
    name,
    provider: "aws",
    region: REGION,
    zones: [...ZONES],
    dns: { zone: "example.com" },
    rancher: { hostname: `rancher.${name}.example.com` },
    ...extra,
  });

/** One emulator per test file, and a way to build the AWS services against it through `aws.services`. */
export interface Harness {
  readonly emulator: Emulator;
  readonly env: Record<string, string>;
  readonly cluster: string;
  readonly config: ClusterConfig;
  /** Fresh services (as a new process would have), with the clients they share. */
  services(options?: AwsOptions, roles?: readonly ServiceKind[]): AwsServices;
  /** A fresh child container with those services registered on core's tokens, as core's composition root does. */
  container(options?: AwsOptions, roles?: readonly ServiceKind[]): DependencyContainer;
  /** A resource context for this cluster. */
  ctx(resource: string, overrides?: Partial<ResourceContext>): ResourceContext;
  stop(): Promise<void>;
}

export async function startHarness(options: EmulatorOptions = {}, cluster = "tst"): Promise<Harness> {
  const emulator = await startEmulator({
    timeScale: 0.001,
    seed: 7,
    fixtures: { aws: { hostedZones: ["example.com"] } },
    log: () => undefined,
    ...options,
  });
  const env = {
    AWS_ENDPOINT_URL: emulator.endpoints.aws!,
    AWS_ACCESS_KEY_ID: emulator.credentials.aws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulator.credentials.aws.secretAccessKey,
  };
  const config = testConfig(cluster);
  const lineage = randomUUID();
  const services = (opts: AwsOptions = {}, roles: readonly ServiceKind[] = ALL_ROLES): AwsServices =>
    aws.services({ config, options: opts, roles, env, baseDir: process.cwd() });
  return {
    emulator,
    env,
    cluster,
    config,
    services,
    container(opts: AwsOptions = {}, roles: readonly ServiceKind[] = ALL_ROLES) {
      const built = services(opts, roles);
      const child = container.createChildContainer();
      for (const role of roles) child.register(serviceTokens[role] as never, { useValue: built[role] });
      // Tests reach the raw SDK through the same clients the services use.
      child.register(AwsClients, { useValue: built.clients });
      return child;
    },
    ctx(resource, overrides = {}) {
      return {
        ...makeContext({
          cluster,
          resource,
          region: REGION,
          lineage,
          poll: { minDelayMs: 5, maxDelayMs: 50 },
        }),
        ...overrides,
      };
    },
    stop: () => emulator.stop(),
  };
}

/** The network spec core would build for an L4 or L7 cluster. */
export const networkSpec = (mode: "l4" | "l7" = "l4", adminCidrs: string[] = []): NetworkSpec => ({
  zones: [...ZONES],
  rules: firewallRules({ mode, clientCidrs: ["0.0.0.0/0"], adminCidrs, ssh: adminCidrs.length > 0 }),
});

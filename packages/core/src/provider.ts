import type { DependencyContainer } from "tsyringe";
import type { ProviderCapabilities, ServiceKind } from "./capabilities.js";
import type { ClusterConfig } from "./config/schema.js";
import type { ConfigIssue } from "./errors.js";
import { DatastoreService } from "./resources/datastore.js";
import { DnsRecordService } from "./resources/dns-record.js";
import { LoadBalancerService } from "./resources/load-balancer.js";
import { NetworkService } from "./resources/network.js";
import { NodeService } from "./resources/node.js";
import { token } from "./tokens.js";

/** The validated cluster config, registered in every cluster container. */
export const ClusterConfigToken = token<ClusterConfig>("ClusterConfig");

/** The token each service kind is registered on (tokens share their interfaces' names). */
export const serviceTokens = {
  network: NetworkService,
  nodes: NodeService,
  datastore: DatastoreService,
  loadBalancer: LoadBalancerService,
  dns: DnsRecordService,
} as const;

/** What `register` and `preflight` receive. */
export interface ProviderContext<Options> {
  /** The validated cluster config. */
  readonly config: ClusterConfig;
  /** This provider's options block (`options.<name>` in the config), as returned by `parseOptions`. */
  readonly options: Options;
  /** Which of its services this cluster uses from it (compute and DNS may come from different providers). */
  readonly roles: readonly ServiceKind[];
  /** Directory that relative paths in the config (and in provider options) resolve from. */
  readonly baseDir: string;
  /** Environment to read credentials from (defaults to `process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * A provider is a descriptor, not a subclass: a name, its capabilities as data, and a function that puts its
 * services into a cluster's container. Importing a descriptor must not load a cloud SDK; services load theirs
 * on first use.
 */
export interface CloudProvider<Options = unknown> {
  /** Name used in configs, e.g. `aws`. */
  readonly name: string;
  /** What it can do. */
  readonly capabilities: ProviderCapabilities;
  /**
   * Body of a POSIX shell function `k3sinfra_meta KEY` that prints a value published with
   * `NodeService.publish` (e.g. IMDS instance tags on AWS). Core ships readers for aws, gcp and azure.
   */
  readonly metadataReader?: string;
  /**
   * HTTPS URL of the CA bundle that verifies the datastore's TLS certificate in `region` (e.g. the RDS
   * regional bundle). Nodes download it at boot, and K3s then connects with `datastore-cafile`.
   */
  datastoreCaUrl?(region: string): string | undefined;
  /** Validates `options.<name>`; returns typed options, or issues whose paths are relative to that block. */
  parseOptions?(raw: unknown): { ok: true; value: Options } | { ok: false; issues: ConfigIssue[] };
  /** Validates the parts of the cluster config that depend on this provider (regions, zones, names). */
  validate?(config: ClusterConfig, options: Options, roles: readonly ServiceKind[]): ConfigIssue[];
  /** Registers one service per supported kind on the tokens above, in the cluster's child container. */
  register(container: DependencyContainer, ctx: ProviderContext<Options>): void;
  /** Checks credentials and reachability before anything is created; throws `AuthFailedError` naming the env var. */
  preflight?(
    container: DependencyContainer,
    ctx: ProviderContext<Options>,
    signal: AbortSignal,
  ): Promise<void>;
}

/** Identity helper that checks a descriptor's type, as `defineConfig` helpers do. */
export const defineProvider = <Options>(provider: CloudProvider<Options>): CloudProvider<Options> => provider;

import type { DependencyContainer } from "tsyringe";
import type { NodeSecretReader } from "./bootstrap/node-secrets.js";
import type { ProviderCapabilities, ServiceKind } from "./capabilities.js";
import type { ClusterConfig } from "./config/schema.js";
import type { ConfigIssue } from "./errors.js";
import { DatastoreService } from "./resources/datastore.js";
import { DnsRecordService } from "./resources/dns-record.js";
import { LoadBalancerService } from "./resources/load-balancer.js";
import { NetworkService } from "./resources/network.js";
import { NodeService } from "./resources/node.js";
import { SecretStoreService } from "./resources/secret-store.js";
import type { StateBackendFactory } from "./state/backend.js";
import { token } from "./tokens.js";

/**
 * The provider contract this k3sinfra writes: the descriptor below with `services(ctx)`, and the resource
 * contracts in `resources/` (where nodes must `publish` the late values). Raised on any change a provider
 * must follow; a descriptor declares the version it was written for in `contractVersion`.
 */
export const PROVIDER_CONTRACT_VERSION = 2;

/**
 * The contract versions this k3sinfra can load. 1 is the `register(container, ctx)` form, kept for one
 * version with a deprecation warning; it goes in contract 3.
 */
export const SUPPORTED_CONTRACT_VERSIONS = { min: 1, max: 2 } as const;

/** The validated cluster config, registered in every cluster container. */
export const ClusterConfigToken = token<ClusterConfig>("ClusterConfig");

/** The token each service kind is registered on (tokens share their interfaces' names). */
export const serviceTokens = {
  network: NetworkService,
  nodes: NodeService,
  datastore: DatastoreService,
  loadBalancer: LoadBalancerService,
  dns: DnsRecordService,
  secretStore: SecretStoreService,
} as const;

/**
 * A provider's services as plain objects, one per kind in `ctx.roles`. Other fields (a shared client, say)
 * are ignored by core and handed back to `preflight`.
 */
export interface ProviderServices {
  readonly network?: NetworkService | undefined;
  readonly nodes?: NodeService | undefined;
  readonly datastore?: DatastoreService | undefined;
  readonly loadBalancer?: LoadBalancerService | undefined;
  readonly dns?: DnsRecordService | undefined;
  readonly secretStore?: SecretStoreService | undefined;
}

/** What `services` and `preflight` receive. */
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
  /**
   * In `preflight`: the command about to mutate. `destroy` should check little beyond credentials: what only
   * creation needs (an instance type still offered, a certificate still valid) must not block a teardown.
   */
  readonly operation?: "up" | "destroy" | undefined;
}

/** The parts every descriptor has, whatever its contract version. */
interface DescriptorBase<Options> {
  /** Name used in configs, e.g. `my-cloud`. */
  readonly name: string;
  /** What it can do. */
  readonly capabilities: ProviderCapabilities;
  /**
   * Body of a POSIX shell function `k3sinfra_meta KEY` that prints a value published with
   * `NodeService.publish` (e.g. instance tags read from the cloud's metadata service). Every provider with
   * the `nodes` service must give one: core ships none.
   */
  readonly metadataReader?: string;
  /**
   * How a node reads one secret from the provider's secret store with its own identity (and stores its
   * kubeconfig): files cloud-init writes and the shell functions `k3sinfra_secret` / `k3sinfra_secret_put`.
   * Required with the `secretStore` service.
   */
  readonly secretReader?: NodeSecretReader;
  /**
   * HTTPS URL of the CA bundle that verifies the datastore's TLS certificate in `region` (e.g. a managed
   * database service's regional bundle). Nodes download it at boot, and K3s then connects with `datastore-cafile`.
   */
  datastoreCaUrl?(region: string): string | undefined;
  /**
   * The command that opens a tunnel from this machine's 127.0.0.1:`port` to a server's port (e.g. the cloud
   * CLI's port forwarding session), printed by `k3sinfra kubeconfig` when the API is closed to the outside.
   */
  apiTunnel?(node: { readonly id: string; readonly privateIp: string }, port: number, region: string): string;
  /** The command that prints a node's boot log from the user's machine, named when a node is stuck. */
  bootLogCommand?(node: { readonly id: string }, region: string): string;
  /**
   * State backends this provider offers, by the name `state.backend` uses (e.g. its object store): each
   * validates its `state:` block and builds a `StateBackend` (docs/writing-a-provider.md, "State backends").
   */
  // biome-ignore lint/suspicious/noExplicitAny: each backend has its own options type
  readonly stateBackends?: Readonly<Record<string, StateBackendFactory<any>>>;
  /** Validates `options.<name>`; returns typed options, or issues whose paths are relative to that block. */
  parseOptions?(raw: unknown): { ok: true; value: Options } | { ok: false; issues: ConfigIssue[] };
  /** Validates the parts of the cluster config that depend on this provider (regions, zones, names). */
  validate?(config: ClusterConfig, options: Options, roles: readonly ServiceKind[]): ConfigIssue[];
}

/**
 * A provider is a descriptor, not a subclass: a name, its capabilities as data, and a function that returns
 * its services as plain objects. Importing a descriptor must not load a cloud SDK; services load theirs on
 * first use.
 */
export interface ProviderDescriptor<Options = unknown, Services extends ProviderServices = ProviderServices>
  extends DescriptorBase<Options> {
  /** The provider contract it was written for: `PROVIDER_CONTRACT_VERSION` when written. */
  readonly contractVersion: 2;
  /**
   * Returns one service per kind in `ctx.roles`. Core calls it when it validates a config (to check the
   * contract) and once per command, so it only builds objects: no cloud call, no credential check.
   */
  services(ctx: ProviderContext<Options>): Services;
  /**
   * Read-only checks before anything is created (credentials, regions, quotas), given what `services`
   * returned; throws `AuthFailedError` naming the env var, or `InvalidConfigError` naming the config path.
   */
  preflight?(services: Services, ctx: ProviderContext<Options>, signal: AbortSignal): Promise<void>;
  register?: never;
}

/**
 * The contract-1 form: `register` puts the services into core's tsyringe container.
 * @deprecated since contract 2; return plain objects from `services(ctx)` instead. Loaded with a warning
 * until contract 3.
 */
export interface LegacyProviderDescriptor<Options = unknown> extends DescriptorBase<Options> {
  readonly contractVersion?: 1;
  /** Registers one service per supported kind on the tokens above, in the cluster's child container. */
  register(container: DependencyContainer, ctx: ProviderContext<Options>): void;
  /** Checks credentials and reachability before anything is created. */
  preflight?(
    container: DependencyContainer,
    ctx: ProviderContext<Options>,
    signal: AbortSignal,
  ): Promise<void>;
  services?: never;
}

/** A provider descriptor of any contract version this k3sinfra loads. */
export type CloudProvider<Options = unknown> =
  // biome-ignore lint/suspicious/noExplicitAny: any provider's own services type is accepted here
  ProviderDescriptor<Options, any> | LegacyProviderDescriptor<Options>;

/** Identity helper that checks a descriptor's type, as `defineConfig` helpers do. */
export function defineProvider<Options, Services extends ProviderServices = ProviderServices>(
  provider: ProviderDescriptor<Options, Services>,
): ProviderDescriptor<Options, Services>;
/** @deprecated the `register` form; return plain objects from `services(ctx)` instead. */
export function defineProvider<Options>(
  provider: LegacyProviderDescriptor<Options>,
): LegacyProviderDescriptor<Options>;
export function defineProvider<Options>(provider: CloudProvider<Options>): CloudProvider<Options> {
  return provider;
}

/** Whether a descriptor uses the deprecated `register` form. */
export const isLegacyProvider = (p: CloudProvider<unknown>): p is LegacyProviderDescriptor<unknown> =>
  typeof (p as { services?: unknown }).services !== "function";

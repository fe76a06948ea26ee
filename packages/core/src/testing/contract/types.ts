import type { DependencyContainer } from "tsyringe";
import type { ServiceKind } from "../../capabilities.js";
import type { ProviderServices } from "../../provider.js";
import type { Tags } from "../../resources/common.js";
import type { DnsRecordState, DnsTarget } from "../../resources/dns-record.js";
import type { LoadBalancerState } from "../../resources/load-balancer.js";
import type { NetworkState } from "../../resources/network.js";
import type { NodeState } from "../../resources/node.js";
import type { PollPolicy } from "../../wait.js";

export type TestFn = (name: string, fn: () => Promise<void>, timeout?: number) => void;
export type SuiteFn = (name: string, fn: () => void) => void;
export type HookFn = (fn: () => Promise<void>, timeout?: number) => void;

/** The provider's services as plain objects, one per kind it implements (the `services(ctx)` form). */
export type ContractServices = ProviderServices;

/** A DNS record as the DNS service itself stores it, read through the back door. */
export interface BackDoorRecord {
  /** `A`, `CNAME` or `ALIAS` (an alias A record). */
  readonly type: string;
  /** Addresses, the target host name, or the alias DNS name (without a trailing dot). */
  readonly values: readonly string[];
  /** Whether the change has propagated (the DNS service reports it in sync); `true` where the DNS service has no such notion. */
  readonly inSync: boolean;
}

/**
 * A fresh set of the provider's services, and back doors into the cloud behind them: the cloud's own view
 * (emulator inventory, fake cloud, the raw SDK), never the provider under test. Give `services` or a
 * `container` in which the provider registered them.
 */
export interface ContractHarness {
  /** The services as plain objects (the `services(ctx)` form). Takes precedence over `container`. */
  readonly services?: ContractServices;
  /** A container in which the provider registered its services (the `register(container, ctx)` form). */
  readonly container?: DependencyContainer;
  /** Ids of the cloud objects that carry every given tag. */
  owned(tags: Tags): Promise<string[]>;
  /**
   * The object's lifecycle status as the cloud reports it (`running`, `available`, `active`), or `undefined`
   * when it does not exist. Checked for nodes, the datastore and load balancers against `readyStatus`.
   */
  status?(id: string): Promise<string | undefined>;
  /** The record as the DNS service stores it; `undefined` when there is none. */
  record?(state: DnsRecordState): Promise<BackDoorRecord | undefined>;
  /** Ids of the nodes registered with the load balancer (draining ones excluded). */
  targets?(lb: LoadBalancerState): Promise<string[]>;
  /**
   * The values published to a node, as its bootstrap would read them (instance tags, metadata, files).
   * Without it the suite can only check that `publish` resolves.
   */
  published?(node: NodeState): Promise<Readonly<Record<string, string>>>;
  /** Drift made outside k3sinfra, as a user in a console would; each one enables a repair case. */
  readonly drift?: {
    /** Stops the node (its `update` must start it again). */
    stopNode?(node: NodeState): Promise<void>;
    /** Adds an ingress rule the spec does not have (its `update` must remove it). */
    addIngressRule?(network: NetworkState): Promise<void>;
  };
  /** Releases what the harness started. */
  close?(): Promise<void>;
}

/** Which parts of the contract to run, keyv-style: turn off what a provider does not implement. */
export interface ContractToggles {
  network?: boolean;
  nodes?: boolean;
  datastore?: boolean;
  loadBalancer?: boolean;
  dns?: boolean;
  /** Also run the L7 load balancer (needs `certificate`). */
  l7?: boolean;
  /**
   * Whether nodes implement `publish` (default true). Off only for a provider whose nodes get the late
   * values another way, as it declares in its descriptor.
   */
  publish?: boolean;
  /** Whether `update` repairs drift (default true); the cases run for each `drift` hook the harness has. */
  repairsDrift?: boolean;
  /** Record types to check (default `["A"]`); `ALIAS` uses the suite's load balancer's `alias`. */
  dnsRecordTypes?: readonly ("A" | "CNAME" | "ALIAS")[];
}

/** The lifecycle words that mean ready, per kind; compared case-insensitively. */
export interface ReadyStatus {
  readonly nodes: readonly string[];
  readonly datastore: readonly string[];
  readonly loadBalancer: readonly string[];
}

export interface ProviderContractOptions {
  /** Test functions from the runner (vitest's or node:test's), or collectors (`collectProviderContract`). */
  readonly describe: SuiteFn;
  readonly it: TestFn;
  readonly beforeAll: HookFn;
  readonly afterAll: HookFn;
  /** Name shown in the report. */
  readonly name: string;
  /** Makes a harness; called again for the adoption test, which needs fresh service instances. */
  readonly harness: () => Promise<ContractHarness>;
  readonly region: string;
  readonly zones: readonly string[];
  /** DNS zone that exists in the cloud, and the target a DNS-only provider points at. */
  readonly dns?: { readonly zone: string; readonly target?: DnsTarget };
  /** Certificate reference for L7. */
  readonly certificate?: string;
  readonly toggles?: ContractToggles;
  /** Override the words that mean ready (default running / available / active). */
  readonly readyStatus?: Partial<ReadyStatus>;
  readonly poll?: PollPolicy;
  /** Per-test timeout in ms. */
  readonly timeoutMs?: number;
}

export type { ServiceKind };

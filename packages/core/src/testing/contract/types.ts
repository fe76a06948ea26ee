import type { ServiceKind } from "../../capabilities.js";
import type { CloudProvider, ProviderServices } from "../../provider.js";
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
 * Back doors into the cloud behind the provider: the cloud's own view (emulator inventory, fake cloud, the raw
 * SDK), never the provider under test. `owned` is required; each optional one enables the checks it feeds.
 */
export interface ContractBackDoors {
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
}

/**
 * What the suite works with: one set of the provider's services (built again for the "fresh process" of the
 * adoption cases), and the back doors.
 */
export interface ContractHarness extends ContractBackDoors {
  /** The services as plain objects (a contract-1 provider's are resolved from its container). */
  readonly services: ContractServices;
}

/**
 * Which parts of the contract to run. Each defaults from the provider's capabilities, the way unstorage's
 * `testDriver({ driver })` does: a kind runs when `capabilities.services` lists it; L7 when
 * `loadBalancerModes` has `l7` and a `certificate` is given (or the provider issues its own); the record types
 * are `dnsRecordTypes` (`ALIAS` only with the provider's own load balancer). An explicit toggle overrides.
 */
export interface ContractToggles {
  network?: boolean;
  /** The secret store (values in, names as `nameOf` says, reveal, delete). */
  secretStore?: boolean;
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
  /** Record types to check; `ALIAS` uses the suite's load balancer's `alias`. */
  dnsRecordTypes?: readonly ("A" | "CNAME" | "ALIAS")[];
}

/** The lifecycle words that mean ready, per kind; compared case-insensitively. */
export interface ReadyStatus {
  readonly nodes: readonly string[];
  readonly datastore: readonly string[];
  readonly loadBalancer: readonly string[];
}

/** The environment a provider's services read (credentials, endpoints). */
export type ContractEnv = Readonly<Record<string, string | undefined>>;

/**
 * What `runProviderContract` takes: the provider itself, how to reach its cloud (options, env, region,
 * zones) and the back doors into that cloud. The suite builds the provider's services as core would
 * (`services(ctx)`, or a contract-1 `register`), for a cluster of its own.
 */
export interface ProviderContractOptions extends ContractBackDoors {
  /** Test functions from the runner (vitest's or node:test's), or collectors (`collectProviderContract`). */
  readonly describe: SuiteFn;
  readonly it: TestFn;
  readonly beforeAll: HookFn;
  readonly afterAll: HookFn;
  /** The provider under test: its descriptor as published. */
  readonly provider: CloudProvider;
  /** Its options, as a config's `options.<provider name>` gives them (checked by its `parseOptions`). */
  readonly options?: unknown;
  /**
   * The environment its services read. A function when it is known only once the cloud is up (an emulator
   * started on first use); called for every set of services the suite builds.
   */
  readonly env?: ContractEnv | (() => ContractEnv | Promise<ContractEnv>);
  readonly region: string;
  readonly zones: readonly string[];
  /** Name shown in the report; default the provider's name. */
  readonly name?: string;
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
  /** Releases what the test started for the suite (an emulator), after the last case. */
  close?(): Promise<void>;
}

export type { ServiceKind };

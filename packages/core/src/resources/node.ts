import { token } from "../tokens.js";
import type { ResourceContext, ResourceService, ResourceState } from "./common.js";
import type { NetworkState } from "./network.js";

/** What one K3s server VM must be. */
export interface NodeSpec {
  /** Position in the cluster, 0-based; node 0 starts K3s first. */
  readonly index: number;
  /** Zone to place it in. */
  readonly zone: string;
  /** Minimum size; providers map it to an instance type unless `instanceType` is given. */
  readonly size: { readonly vcpus: number; readonly memoryGiB: number };
  /** Provider-specific machine type that overrides `size`. */
  readonly instanceType?: string | undefined;
  /** Root disk size. */
  readonly diskGiB: number;
  /** OS image: a portable name such as `ubuntu-24.04`, or a provider image id. */
  readonly image: string;
  /** Name of an SSH key known to the cloud, if SSH access is wanted. */
  readonly sshKeyName?: string | undefined;
  /** Cloud-init user data in plain text; providers encode it as their API requires. Contains secrets. */
  readonly userData: string;
  /** Hash of `userData`, so plans can compare without holding the secret. */
  readonly userDataHash: string;
  /** The network it joins. */
  readonly network: NetworkState;
}

/** A node as built. */
export interface NodeState extends ResourceState {
  /** Physical name. */
  readonly name: string;
  /** Zone it runs in. */
  readonly zone: string;
  /** Address inside the network (K3s `node-ip`). */
  readonly privateIp: string;
  /** Public address, if any. */
  readonly publicIp?: string | undefined;
  /** The provider's lifecycle state, e.g. `running`. */
  readonly status: string;
  /** Machine type in use. */
  readonly instanceType: string;
}

/**
 * Values a node needs that do not exist when it is created, so they cannot be in its user data: nodes are
 * created in parallel with the datastore. The orchestrator hands them to `NodeService.publish` once they
 * exist, and the node's bootstrap reads them with the provider's `metadataReader` (see
 * `bootstrap/metadata.ts` for the full protocol).
 */
export interface LateValues {
  /** `DatastoreState.host`; every node waits for it before starting K3s. */
  readonly "datastore-host": string;
  /** `DatastoreState.port`; the node falls back to 3306 while it is absent. */
  readonly "datastore-port": string;
  /** Node 0's private IP; nodes with index > 0 wait for it, then join through it. */
  readonly "first-server-ip": string;
}

/** K3s server VMs. */
export interface NodeService extends ResourceService<NodeSpec, NodeState> {
  /**
   * Publishes the late values (never secret) where the node's bootstrap reads them with the provider's
   * `metadataReader`: instance tags, metadata attributes, a key-value store. Required: without it nodes wait
   * forever for the datastore host, so core refuses, when it validates a config, a provider whose nodes lack
   * it. Idempotent: called again with the same values after a resumed run, and on every new node.
   */
  /**
   * The node's boot log as the cloud shows it without logging in (console output, a serial port), or
   * `undefined` when there is none yet. Core reads the boot script's stage lines from it to say where a
   * node that never became healthy is stuck.
   */
  bootLog?(state: NodeState, ctx: ResourceContext): Promise<string | undefined>;
  publish(state: NodeState, values: Readonly<Record<string, string>>, ctx: ResourceContext): Promise<void>;
}

/** Injection token for the NodeService contract. */
export const NodeService = token<NodeService>("NodeService");

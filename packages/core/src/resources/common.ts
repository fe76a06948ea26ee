import type { PollPolicy } from "../wait.js";

/** Key/value ownership tags; providers map them to labels where the cloud restricts keys. */
export type Tags = Readonly<Record<string, string>>;

/** What every service call receives besides its spec. */
export interface ResourceContext {
  /** Cluster name from the config. */
  readonly cluster: string;
  /** Graph id of the resource, e.g. `node-1`; stable for the life of the cluster. */
  readonly resource: string;
  /** Deterministic physical name (lowercase letters, digits, hyphens; at most 32 characters). */
  readonly name: string;
  /** Ownership tags to put on every cloud object this call creates. */
  readonly tags: Tags;
  /** Stable idempotency token for this resource and generation (ClientToken, requestId, CallerReference). */
  readonly idempotencyToken: string;
  /**
   * Generation of the resource: 0 at first, +1 at each replacement. A replacement is created before its
   * predecessor is deleted, so a cloud that needs unique names can suffix them with it.
   */
  readonly generation?: number;
  /** Region from the config. */
  readonly region: string;
  /** Cancels the call: the per-resource timeout or the caller's abort. */
  readonly signal: AbortSignal;
  /** How often to poll while waiting; pass it to `waitUntil`. Small under the emulator, real otherwise. */
  readonly poll: PollPolicy;
  /** Reports progress for this resource (shown live by the CLI, emitted as an event). Never pass secrets. */
  report(message: string): void;
  /**
   * Runs one cloud API request holding one of the command's API-call slots (`parallelism`: at most that many
   * requests in flight across the whole command). Wrap each attempt of each request in it — never a wait
   * between polls or a retry's backoff, so a resource that is only waiting holds no slot. Absent outside the
   * orchestrator; a provider that does not use it is not bounded.
   */
  readonly limit?: <T>(request: () => Promise<T>) => Promise<T>;
  /**
   * Whether a change must have propagated before the call returns (the DNS service reports it in sync). `false` when nothing
   * waits on it (destroy's DNS deletion): the call may return once the cloud accepted the change. Default true.
   */
  readonly waitForSync?: boolean;
}

/** The state every resource returns: at least a provider id. */
export interface ResourceState {
  /** The provider's id for the resource (its cloud's resource name, link or id). */
  readonly id: string;
}

/**
 * The shape shared by every resource contract. Implementations must make `create` idempotent: calling it
 * again after a crash, with the same context, adopts what the first call made instead of duplicating it.
 */
export interface ResourceService<Spec, State extends ResourceState> {
  /** Spec fields that `update` can change in place; a change to any other field means replace. */
  readonly updatable: readonly (keyof Spec & string)[];
  /** Creates the resource, or adopts the one an earlier run made, and returns once it is ready. */
  create(spec: Spec, ctx: ResourceContext): Promise<State>;
  /** Reads the live state; `undefined` when the resource no longer exists. Throws on any other failure. */
  read(state: State, ctx: ResourceContext): Promise<State | undefined>;
  /**
   * Changes `updatable` fields in place and returns once the change is applied. Also called to repair drift
   * (the live object differs from the recorded one): it must converge the object back to the spec.
   */
  update?(state: State, spec: Spec, ctx: ResourceContext): Promise<State>;
  /** Deletes the resource and returns once it is gone; a missing resource is not an error. */
  delete(state: State, ctx: ResourceContext): Promise<void>;
  /** Lists the resources of this kind that carry every given tag (adoption and the destroy sweep). */
  findByTags(tags: Tags, ctx: ResourceContext): Promise<State[]>;
  /** The provider's native client, an escape hatch for what the contract does not cover. */
  native(): Promise<unknown>;
}

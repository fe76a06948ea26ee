import type { KindStates } from "../orchestrator/kinds/index.js";

/** Version of the state file format; bumped with a migration when the shape changes. */
export const STATE_VERSION = 1;

/**
 * Kinds of resources in the graph (and in state): the keys of the orchestrator's kind table, one module per
 * kind (`orchestrator/kinds/`). `targets` and `bootstrap` are derived from the others, `secrets` is the
 * cluster's secret store.
 */
export type ResourceKind = keyof KindStates;

/** One resource as recorded after a successful create or update. */
export interface ResourceRecord {
  /** Graph id, e.g. `node-1`. */
  readonly resource: string;
  /** Which service kind manages it. */
  readonly kind: ResourceKind;
  /** Provider name that created it. */
  readonly provider: string;
  /** Increments when the resource is replaced; part of its idempotency token. */
  readonly generation: number;
  /** Hash of each desired spec field at the last apply, for plans without holding secrets. */
  readonly inputs: Readonly<Record<string, string>>;
  /** The service's state object (no secrets: services must not return any). */
  readonly state: Readonly<Record<string, unknown>> & { readonly id: string };
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A replaced resource still alive, kept until its successor is ready (Terraform calls these "deposed"). */
export interface DeposedRecord {
  /** Graph id it was recorded under, e.g. `node-1`. */
  readonly resource: string;
  readonly kind: ResourceRecord["kind"];
  readonly provider: string;
  /** Its generation, for the idempotency token of its delete. */
  readonly generation: number;
  readonly state: ResourceRecord["state"];
  /** When it was superseded. */
  readonly since: string;
}

/** A mutating call announced before it is made, so a crash in the middle can be resumed without duplicates. */
export interface Intent {
  /** Unique id of the intent. */
  readonly id: string;
  readonly resource: string;
  readonly action: "create" | "update" | "delete";
  /** The idempotency token and physical name the call uses; a resumed run reuses them. */
  readonly token: string;
  readonly name: string;
  readonly generation: number;
  readonly startedAt: string;
}

/** Secrets generated for the cluster; kept encrypted at rest by the store. */
export interface ClusterSecrets {
  readonly k3sToken: string;
  /** The datastore admin (master) user's password. */
  readonly datastorePassword: string;
  /** The least-privilege user K3s logs in as. */
  readonly datastoreK3sPassword: string;
  readonly rancherBootstrapPassword: string;
}

/** Everything k3sinfra knows about one cluster. */
export interface ClusterState {
  readonly version: typeof STATE_VERSION;
  /** Random id made with the state, part of every idempotency token. */
  readonly lineage: string;
  /** Increments with every write. */
  readonly serial: number;
  readonly cluster: string;
  /**
   * Random id of this cluster, made with the state and written into every ownership tag
   * (`k3sinfra:cluster-id`). Absent in states from before it existed: those clusters are tagged by name only.
   */
  readonly clusterId?: string | undefined;
  /** The Rancher hostname fixed at creation; never changes. */
  readonly hostname: string | undefined;
  readonly resources: Readonly<Record<string, ResourceRecord>>;
  /** Intents whose call has not been confirmed yet. */
  readonly journal: readonly Intent[];
  /** Decrypted in memory; the store encrypts them on write. */
  readonly secrets: ClusterSecrets | undefined;
  /**
   * Old servers whose replacements were created but not yet proven healthy behind the load balancer
   * (create-before-destroy): they keep serving and are deleted once the replacement is healthy.
   */
  readonly deposed?: readonly DeposedRecord[] | undefined;
  /** The config as of the last complete `up`, so outputs show what was applied, not what was edited since. */
  readonly applied?: Readonly<Record<string, unknown>> | undefined;
  /** Non-secret outputs computed at the end of the last apply. */
  readonly outputs: Readonly<Record<string, unknown>> | undefined;
}

/** Who holds a lock, and until when. */
export interface LockInfo {
  readonly id: string;
  /** `user@host pid N`. */
  readonly owner: string;
  /** Command that took it, e.g. `up`. */
  readonly operation: string;
  readonly acquiredAt: string;
  /** The lock is stale after this instant unless renewed. */
  readonly expiresAt: string;
  /**
   * Host name, pid and start of the holding process, so a later run on the same host can tell that the holder
   * is gone and take the lock over at once. Absent in locks written by stores that do not record them (those
   * wait for their lease to expire).
   */
  readonly host?: string;
  readonly pid?: number;
  /** Opaque; on Linux `<boot id>/<pid namespace>/<start ticks>`, so a reused pid is not taken for the holder. */
  readonly processStart?: string;
}

/** A lock taken over from a holder that is gone; the new holder should tell the user. */
export interface LockTakeover {
  /** The lock that was replaced. */
  readonly previous: LockInfo;
  /** `expired`: its lease ran out; `owner-gone`: its process on this host is no longer running. */
  readonly reason: "expired" | "owner-gone";
  /** The notice, one sentence, naming the previous holder and why its lock could be taken. */
  readonly message: string;
}

/** A held lock; release it when done. The store renews the lease while it is held. */
export interface Lock {
  readonly info: LockInfo;
  /** Aborts if the lock is lost (force-unlocked or taken over), so the holder stops before writing. */
  readonly signal?: AbortSignal;
  /** Set when this lock replaced a stale one; the store has also passed `message` to its `onWarning`. */
  readonly takenOver?: LockTakeover;
  release(): Promise<void>;
}

/**
 * Where cluster state lives. The default is a local file; a team can plug in any store (an object store, a database)
 * with the same guarantees: atomic writes, secrets encrypted at rest, one writer at a time.
 */
export interface StateStore {
  /**
   * Reads the state; `undefined` when none exists yet. With `{ secrets: false }` the secrets are left sealed
   * (returned as `undefined`), so no key is needed; stores that keep no sealed secrets may ignore it.
   */
  read(options?: { secrets?: boolean }): Promise<ClusterState | undefined>;
  /** Replaces the state atomically (a crash leaves the old or the new file, never a torn one). */
  write(state: ClusterState): Promise<void>;
  /** Takes the lock or throws `LockHeldError` naming the holder and how to force-unlock. */
  lock(operation: string): Promise<Lock>;
  /** Removes a lock left by a crashed process, if its id matches. */
  forceUnlock(id: string): Promise<void>;
  /** Who holds the lock now, if anyone. */
  lockInfo(): Promise<LockInfo | undefined>;
  /** Deletes the state after a complete destroy. */
  remove(): Promise<void>;
}

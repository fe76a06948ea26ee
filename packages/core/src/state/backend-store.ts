import { LockHeldError } from "../errors.js";
import type { StateBackend } from "./backend.js";
import { SecretsCipher } from "./cipher.js";
import { decodeState, encodeState } from "./codec.js";
import { StateConflictError, StateCorruptError } from "./errors.js";
import { keySourceFor, type StateKeySource } from "./keys.js";
import {
  DEFAULT_LEASE_MS,
  DEFAULT_RENEW_MS,
  defaultOwner,
  type LeasedLock,
  LeaseManager,
  lockHeldMessage,
} from "./lease.js";
import { currentProcess, ownerGone } from "./owner.js";
import { assertWritable } from "./state.js";
import { type ClusterState, type LockInfo, STATE_VERSION, type StateStore } from "./types.js";

/** Options of `BackendStateStore`; only `backend` is required. */
export interface BackendStateStoreOptions {
  /** Where the bytes and the lock live. */
  readonly backend: StateBackend;
  /** Cluster name, used in lock and conflict messages (default: the backend's location). */
  readonly cluster?: string;
  /** Key for the secrets (default: the backend's key wrapper, else the passphrase; a key file only for local state). */
  readonly keySource?: StateKeySource;
  /** Lock owner label (default `user@host pid N`). */
  readonly owner?: string;
  /** Lock lease length in ms (default 5 min). */
  readonly leaseMs?: number;
  /** Lease renewal interval in ms (default 60 s). */
  readonly renewMs?: number;
  /** Clock in epoch ms (default `Date.now`). */
  readonly now?: () => number;
  /** Receives warnings such as a stale lock taken over (default `process.emitWarning`). */
  readonly onWarning?: (message: string) => void;
  /** Environment the default key source reads (`K3SINFRA_STATE_PASSPHRASE`); default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * A `StateStore` on any `StateBackend`: the state encoded as the file store writes it, secrets sealed before
 * the bytes leave the process, every write conditional on the version read (so a writer that lost its lock
 * can never overwrite a newer state), and a leased lock that renews itself. A holder on this host that is gone
 * (killed, crashed) is taken over at once; one elsewhere when its lease runs out.
 */
export class BackendStateStore implements StateStore {
  readonly backend: StateBackend;
  readonly #options: BackendStateStoreOptions;
  readonly #leases: LeaseManager;
  readonly #subject: string;
  readonly #now: () => number;
  #cipher: SecretsCipher | undefined;
  #checked: Promise<void> | undefined;

  constructor(options: BackendStateStoreOptions) {
    this.backend = options.backend;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#subject = options.cluster
      ? `State for cluster ${options.cluster}`
      : `State at ${options.backend.location}`;
    const self = currentProcess();
    this.#leases = new LeaseManager(options.backend.lock, {
      subject: this.#subject,
      owner: options.owner ?? defaultOwner(),
      leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
      renewMs: options.renewMs ?? DEFAULT_RENEW_MS,
      now: this.#now,
      onWarning: options.onWarning ?? ((message) => process.emitWarning(message, "K3sinfraStateWarning")),
      identity: self,
      ownerGone: (info) => ownerGone(info, self),
    });
  }

  // The key source is settled on first use, so reading without secrets never asks for a key.
  #sealer(): SecretsCipher {
    this.#cipher ??= new SecretsCipher(
      this.#options.keySource ?? keySourceFor(this.backend, this.#options.env),
    );
    return this.#cipher;
  }

  /** Reads and decrypts the state; `undefined` when none is stored. */
  async read(options: { secrets?: boolean } = {}): Promise<ClusterState | undefined> {
    const stored = await this.backend.read();
    if (stored === undefined) return undefined;
    const where = this.backend.location;
    const doc = decodeState(stored.bytes, where, this.#previous());
    if (options.secrets === false) return { ...doc, secrets: undefined };
    const secrets = doc.secrets && (await this.#sealer().open(doc.secrets, doc.lineage, where));
    return { ...doc, secrets };
  }

  /**
   * Writes the state if its lineage and serial follow what is stored, conditional on the stored version not
   * having changed since it was read: a concurrent writer's state is never overwritten.
   */
  async write(state: ClusterState): Promise<void> {
    if (state.version !== STATE_VERSION) {
      throw new StateCorruptError(
        `Cannot write state version ${state.version}; this k3sinfra writes ${STATE_VERSION}.`,
      );
    }
    const where = this.backend.location;
    const stored = await this.backend.read();
    assertWritable(stored && decodeState(stored.bytes, where, this.#previous()), state, where);
    const sealed = state.secrets && (await this.#sealer().seal(state.secrets, state.lineage));
    const bytes = Buffer.from(encodeState(state, sealed), "utf8");
    const version = await this.backend.write(bytes, stored?.version);
    if (version === undefined) {
      throw new StateConflictError(
        `Refusing to write state for cluster ${state.cluster}: ${where} changed while this write was prepared (another process wrote it). Nothing was written; read the state again and retry.`,
      );
    }
  }

  #previous(): string {
    return this.backend.previousVersion ?? `${this.backend.location}'s earlier versions`;
  }

  /**
   * Takes the lock or throws `LockHeldError` naming the holder; a stale lock is taken over with a notice. The
   * first lock runs the backend's preflight (only mutating commands lock): its warnings go to `onWarning`.
   */
  async lock(operation: string): Promise<LeasedLock> {
    this.#checked ??= this.#preflight();
    await this.#checked;
    return this.#leases.acquire(operation);
  }

  async #preflight(): Promise<void> {
    const warn = this.#options.onWarning ?? ((m: string) => process.emitWarning(m, "K3sinfraStateWarning"));
    try {
      for (const warning of (await this.backend.preflight?.()) ?? []) warn(warning);
    } catch (error) {
      this.#checked = undefined;
      throw error;
    }
  }

  /** Removes the lock if its id is `id`; a clear error otherwise. */
  forceUnlock(id: string): Promise<void> {
    return this.#leases.forceUnlock(id);
  }

  /** The current lock, if any (expired or not). */
  lockInfo(): Promise<LockInfo | undefined> {
    return this.backend.lock.read();
  }

  /** Deletes the state and its lock; refuses while another process may still hold the lock. */
  async remove(): Promise<void> {
    const lock = await this.backend.lock.read();
    if (
      lock &&
      !this.#leases.holds(lock.id) &&
      Date.parse(lock.expiresAt) > this.#now() &&
      !ownerGone(lock)
    ) {
      throw new LockHeldError(lockHeldMessage(this.#subject, lock), { lock });
    }
    await this.#leases.haltAll();
    await this.backend.delete();
  }
}

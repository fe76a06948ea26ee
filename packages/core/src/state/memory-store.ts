import { inspect } from "node:util";
import { LockHeldError } from "../errors.js";
import { Secret } from "../secret.js";
import { StateCorruptError } from "./errors.js";
import {
  DEFAULT_LEASE_MS,
  DEFAULT_RENEW_MS,
  type LeasedLock,
  LeaseManager,
  type LockBackend,
  lockHeldMessage,
} from "./lease.js";
import { assertWritable } from "./state.js";
import { type ClusterState, type LockInfo, STATE_VERSION, type StateStore } from "./types.js";

/** Options of `MemoryStateStore`; all optional. */
export interface MemoryStateStoreOptions {
  /** Cluster name, used in lock and conflict messages. */
  readonly cluster?: string;
  /** Lock owner label (default `memory`). */
  readonly owner?: string;
  /** Lock lease length in ms (default 5 min). */
  readonly leaseMs?: number;
  /** Lease renewal interval in ms (default 60 s). */
  readonly renewMs?: number;
  /** Clock in epoch ms (default `Date.now`). */
  readonly now?: () => number;
  /** Receives warnings such as an expired lock taken over (default: ignored). */
  readonly onWarning?: (message: string) => void;
}

/** The storage several handles share, like processes sharing a file. */
interface Cell {
  state: ClusterState | undefined;
  lock: LockInfo | undefined;
}

class MemoryLockBackend implements LockBackend {
  readonly #cell: Cell;
  constructor(cell: Cell) {
    this.#cell = cell;
  }
  async create(info: LockInfo): Promise<boolean> {
    if (this.#cell.lock) return false;
    this.#cell.lock = { ...info };
    return true;
  }
  async read(): Promise<LockInfo | undefined> {
    return this.#cell.lock && { ...this.#cell.lock };
  }
  async renew(info: LockInfo): Promise<boolean> {
    if (this.#cell.lock?.id !== info.id) return false;
    this.#cell.lock = { ...info };
    return true;
  }
  async removeIf(id: string): Promise<boolean> {
    if (this.#cell.lock?.id !== id) return false;
    this.#cell.lock = undefined;
    return true;
  }
}

/**
 * A `StateStore` in memory with the file store's semantics (serial and lineage checks, leased locks), for
 * tests and library users. It keeps deep clones, so callers cannot change stored state by mutation, and it
 * prints and serializes with the secrets redacted.
 */
export class MemoryStateStore implements StateStore {
  readonly #cell: Cell;
  readonly #options: MemoryStateStoreOptions;
  readonly #backend: MemoryLockBackend;
  readonly #leases: LeaseManager;
  readonly #subject: string;
  readonly #now: () => number;

  constructor(options: MemoryStateStoreOptions = {}, cell: Cell = { state: undefined, lock: undefined }) {
    this.#cell = cell;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#subject = `State for cluster ${options.cluster ?? "(in memory)"}`;
    this.#backend = new MemoryLockBackend(cell);
    this.#leases = new LeaseManager(this.#backend, {
      subject: this.#subject,
      owner: options.owner ?? "memory",
      leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
      renewMs: options.renewMs ?? DEFAULT_RENEW_MS,
      now: this.#now,
      onWarning: options.onWarning ?? (() => undefined),
    });
  }

  /** Another handle on the same stored state and lock, as a second process would see them. */
  connect(options: MemoryStateStoreOptions = {}): MemoryStateStore {
    return new MemoryStateStore({ ...this.#options, ...options }, this.#cell);
  }

  /** A deep copy of the stored state. */
  async read(): Promise<ClusterState | undefined> {
    return this.#cell.state && structuredClone(this.#cell.state);
  }

  /** Stores a deep copy after the same lineage and serial checks as the file store. */
  async write(state: ClusterState): Promise<void> {
    if (state.version !== STATE_VERSION) {
      throw new StateCorruptError(
        `Cannot write state version ${state.version}; this k3sinfra writes ${STATE_VERSION}.`,
      );
    }
    assertWritable(this.#cell.state, state, "the in-memory state");
    this.#cell.state = structuredClone(state);
  }

  /** Takes the lock or throws `LockHeldError`; an expired lease is taken over with a warning. */
  lock(operation: string): Promise<LeasedLock> {
    return this.#leases.acquire(operation);
  }

  /** Removes the lock if its id is `id`; a clear error otherwise. */
  forceUnlock(id: string): Promise<void> {
    return this.#leases.forceUnlock(id);
  }

  /** The current lock, if any (expired or not). */
  lockInfo(): Promise<LockInfo | undefined> {
    return this.#backend.read();
  }

  /** Deletes the state and the lock; refuses while another handle holds a live lock. */
  async remove(): Promise<void> {
    const lock = this.#cell.lock;
    if (lock && !this.#leases.holds(lock.id) && Date.parse(lock.expiresAt) > this.#now()) {
      throw new LockHeldError(lockHeldMessage(this.#subject, lock), { lock });
    }
    await this.#leases.haltAll();
    this.#cell.state = undefined;
    this.#cell.lock = undefined;
  }

  /** The stored state with secrets redacted, so `JSON.stringify(store)` never leaks them. */
  toJSON(): unknown {
    const state = this.#cell.state;
    return {
      state: state && { ...state, secrets: state.secrets && Secret.redacted },
      lock: this.#cell.lock,
    };
  }

  [inspect.custom](): string {
    return `MemoryStateStore ${inspect(this.toJSON(), { depth: 4 })}`;
  }
}

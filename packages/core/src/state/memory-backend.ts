import type { StateBackend, StoredObject } from "./backend.js";
import type { LockBackend } from "./lease.js";
import type { LockInfo } from "./types.js";

/** The bytes several `MemoryStateBackend` handles share, as processes share a bucket. */
interface Shelf {
  object: StoredObject | undefined;
  lock: LockInfo | undefined;
  writes: number;
  /** Every version ever stored, oldest first (as a versioned bucket keeps them). */
  readonly history: StoredObject[];
}

/**
 * A `StateBackend` in memory with a remote store's semantics (conditional writes, versions, a lock object):
 * for tests of the generic store and for library users. `connect()` gives another handle on the same bytes.
 */
export class MemoryStateBackend implements StateBackend {
  readonly location: string;
  readonly remote: boolean;
  readonly lock: LockBackend;
  readonly #shelf: Shelf;

  constructor(
    options: { location?: string; remote?: boolean } = {},
    shelf: Shelf = { object: undefined, lock: undefined, writes: 0, history: [] },
  ) {
    this.location = options.location ?? "memory://state";
    this.remote = options.remote ?? true;
    this.#shelf = shelf;
    this.lock = {
      create: async (info) => {
        if (shelf.lock) return false;
        shelf.lock = { ...info };
        return true;
      },
      read: async () => shelf.lock && { ...shelf.lock },
      renew: async (info) => {
        if (shelf.lock?.id !== info.id) return false;
        shelf.lock = { ...info };
        return true;
      },
      removeIf: async (id) => {
        if (shelf.lock?.id !== id) return false;
        shelf.lock = undefined;
        return true;
      },
    };
  }

  /** Another handle on the same stored bytes and lock. */
  connect(): MemoryStateBackend {
    return new MemoryStateBackend({ location: this.location, remote: this.remote }, this.#shelf);
  }

  /** Every version stored so far, oldest first. */
  get history(): readonly StoredObject[] {
    return this.#shelf.history;
  }

  async read(): Promise<StoredObject | undefined> {
    const o = this.#shelf.object;
    return o && { bytes: Uint8Array.from(o.bytes), version: o.version };
  }

  async write(bytes: Uint8Array, expected: string | undefined): Promise<string | undefined> {
    if (this.#shelf.object?.version !== expected) return undefined;
    const version = `v${++this.#shelf.writes}`;
    this.#shelf.object = { bytes: Uint8Array.from(bytes), version };
    this.#shelf.history.push(this.#shelf.object);
    return version;
  }

  async delete(): Promise<void> {
    this.#shelf.object = undefined;
    this.#shelf.lock = undefined;
  }
}

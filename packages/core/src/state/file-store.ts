import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { LockHeldError } from "../errors.js";
import { SecretsCipher } from "./cipher.js";
import { decodeState, encodeState } from "./codec.js";
import { StateCorruptError } from "./errors.js";
import { FileLockBackend } from "./file-lock.js";
import { atomicWrite, ensureDir, fsyncDir, readIfExists } from "./fs-util.js";
import { defaultKeySource, type StateKeySource } from "./keys.js";
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

/** Options of `FileStateStore`; only `path` is required. */
export interface FileStateStoreOptions {
  /** The state file, e.g. `.k3sinfra/prod.json`. The lock is `<path>.lock`, the backup `<path>.backup`. */
  readonly path: string;
  /** Cluster name, used in lock and conflict messages (default: the path). */
  readonly cluster?: string;
  /** Key for the secrets (default: `K3SINFRA_STATE_PASSPHRASE`, else the key file). */
  readonly keySource?: StateKeySource;
  /** Lock owner label (default `user@host pid N`). */
  readonly owner?: string;
  /** Lock lease length in ms (default 5 min). */
  readonly leaseMs?: number;
  /** Lease renewal interval in ms (default 60 s). */
  readonly renewMs?: number;
  /** Clock in epoch ms (default `Date.now`), injectable for tests. */
  readonly now?: () => number;
  /** Receives warnings such as an expired lock taken over (default `process.emitWarning`). */
  readonly onWarning?: (message: string) => void;
}

/**
 * The default store: a local JSON file, replaced atomically with one backup of the previous serial, the
 * secrets sealed with AES-256-GCM, and one writer at a time through a leased lock file.
 */
export class FileStateStore implements StateStore {
  /** The state file. */
  readonly path: string;
  /** The lock file. */
  readonly lockPath: string;
  /** The copy of the previous serial. */
  readonly backupPath: string;
  readonly #cipher: SecretsCipher;
  readonly #lockBackend: FileLockBackend;
  readonly #leases: LeaseManager;
  readonly #subject: string;
  readonly #now: () => number;

  constructor(options: FileStateStoreOptions) {
    this.path = options.path;
    this.lockPath = `${options.path}.lock`;
    this.backupPath = `${options.path}.backup`;
    this.#subject = options.cluster ? `State for cluster ${options.cluster}` : `State at ${options.path}`;
    this.#cipher = new SecretsCipher(options.keySource ?? defaultKeySource());
    this.#now = options.now ?? Date.now;
    this.#lockBackend = new FileLockBackend(this.lockPath);
    const self = currentProcess();
    this.#leases = new LeaseManager(this.#lockBackend, {
      subject: this.#subject,
      owner: options.owner ?? defaultOwner(),
      leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
      renewMs: options.renewMs ?? DEFAULT_RENEW_MS,
      now: this.#now,
      onWarning: options.onWarning ?? ((message) => process.emitWarning(message, "K3sinfraStateWarning")),
      // The lock file records this process, so a run on the same host can take over once it is gone.
      identity: self,
      ownerGone: (info) => ownerGone(info, self),
    });
  }

  /** Reads and decrypts the state; `undefined` when the file does not exist. */
  async read(options: { secrets?: boolean } = {}): Promise<ClusterState | undefined> {
    const bytes = await readIfExists(this.path);
    if (bytes === undefined) return undefined;
    const doc = decodeState(bytes, this.path, this.backupPath);
    // Without `secrets`, the key is never asked for (plan --destroy works where the key is not at hand).
    if (options.secrets === false) return { ...doc, secrets: undefined };
    const secrets = doc.secrets && (await this.#cipher.open(doc.secrets, doc.lineage, this.path));
    return { ...doc, secrets };
  }

  /** Writes the state atomically after checking lineage and serial against the file; keeps the old one as backup. */
  async write(state: ClusterState): Promise<void> {
    if (state.version !== STATE_VERSION) {
      throw new StateCorruptError(
        `Cannot write state version ${state.version}; this k3sinfra writes ${STATE_VERSION}.`,
      );
    }
    const previous = await readIfExists(this.path);
    // The check needs only lineage and serial, so a conflict is reported without decrypting anything.
    assertWritable(previous && decodeState(previous, this.path, this.backupPath), state, this.path);
    const sealed = state.secrets && (await this.#cipher.seal(state.secrets, state.lineage));
    const text = encodeState(state, sealed);
    await ensureDir(this.path);
    if (previous !== undefined) await atomicWrite(this.backupPath, previous);
    await atomicWrite(this.path, text);
  }

  /**
   * Takes the lock file or throws `LockHeldError`. A lock whose lease expired, or whose holder on this host no
   * longer runs, is taken over with a warning (and `takenOver` on the returned lock).
   */
  lock(operation: string): Promise<LeasedLock> {
    return this.#leases.acquire(operation);
  }

  /** Removes the lock file if its id is `id`; a clear error otherwise. */
  forceUnlock(id: string): Promise<void> {
    return this.#leases.forceUnlock(id);
  }

  /** The lock file's content, if a lock exists (expired or not). */
  lockInfo(): Promise<LockInfo | undefined> {
    return this.#lockBackend.read();
  }

  /** Deletes the state, its backup and the lock; refuses while another process may still hold the lock. */
  async remove(): Promise<void> {
    const lock = await this.#lockBackend.read();
    if (
      lock &&
      !this.#leases.holds(lock.id) &&
      Date.parse(lock.expiresAt) > this.#now() &&
      !ownerGone(lock)
    ) {
      throw new LockHeldError(lockHeldMessage(this.#subject, lock), { lock });
    }
    // Stop renewals first so no renewal recreates the lock after it is gone.
    await this.#leases.haltAll();
    await rm(this.path, { force: true });
    await rm(this.backupPath, { force: true });
    await rm(this.lockPath, { force: true });
    await fsyncDir(dirname(this.path)).catch(() => undefined);
  }
}

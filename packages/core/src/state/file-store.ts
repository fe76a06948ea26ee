import { BackendStateStore } from "./backend-store.js";
import { FileStateBackend } from "./file-backend.js";
import { defaultKeySource, type StateKeySource } from "./keys.js";

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
 * The default store: a local JSON file (`FileStateBackend`), replaced atomically with one backup of the
 * previous serial, the secrets sealed with AES-256-GCM, and one writer at a time through a leased lock file —
 * the generic `BackendStateStore` on a file. A holder on this host that is gone is taken over at once.
 */
export class FileStateStore extends BackendStateStore {
  /** The state file. */
  readonly path: string;
  /** The lock file. */
  readonly lockPath: string;
  /** The copy of the previous serial. */
  readonly backupPath: string;

  constructor(options: FileStateStoreOptions) {
    const backend = new FileStateBackend(options.path);
    super({
      ...options,
      backend,
      // Chosen now, as the store always has: the environment at construction decides the key.
      keySource: options.keySource ?? defaultKeySource(),
    });
    this.path = backend.path;
    this.lockPath = backend.lockPath;
    this.backupPath = backend.backupPath;
  }
}

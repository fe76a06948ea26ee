import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import type { StateBackend, StoredObject } from "./backend.js";
import { FileLockBackend } from "./file-lock.js";
import { atomicWrite, ensureDir, fsyncDir, readIfExists } from "./fs-util.js";

/** A content hash: the version of a file, so a write can check that nobody replaced it since it was read. */
const versionOf = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/**
 * The state as a local file (`FileStateStore`'s backend): replaced atomically (temp file, fsync, rename; mode
 * 0600) with the previous content kept as `<path>.backup`, and locked with `<path>.lock`. The version is the
 * content's hash; the compare-and-write is checked under the lock (one writer at a time on this machine).
 */
export class FileStateBackend implements StateBackend {
  readonly remote = false;
  readonly location: string;
  readonly lock: FileLockBackend;
  /** The copy of the previous serial. */
  readonly backupPath: string;
  readonly lockPath: string;

  constructor(readonly path: string) {
    this.location = path;
    this.backupPath = `${path}.backup`;
    this.lockPath = `${path}.lock`;
    this.lock = new FileLockBackend(this.lockPath);
  }

  get previousVersion(): string {
    return this.backupPath;
  }

  async read(): Promise<StoredObject | undefined> {
    const bytes = await readIfExists(this.path);
    return bytes && { bytes, version: versionOf(bytes) };
  }

  async write(bytes: Uint8Array, expected: string | undefined): Promise<string | undefined> {
    const previous = await readIfExists(this.path);
    if ((previous && versionOf(previous)) !== expected) return undefined;
    await ensureDir(this.path);
    if (previous !== undefined) await atomicWrite(this.backupPath, previous);
    await atomicWrite(this.path, bytes);
    return versionOf(bytes);
  }

  /** Deletes the state, its backup and the lock. */
  async delete(): Promise<void> {
    await rm(this.path, { force: true });
    await rm(this.backupPath, { force: true });
    await rm(this.lockPath, { force: true });
    await fsyncDir(dirname(this.path)).catch(() => undefined);
  }
}

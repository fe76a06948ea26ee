import { link, rename, rm } from "node:fs/promises";
import { LockHeldError } from "../errors.js";
import { atomicWrite, createExclusive, ensureDir, isErrno, readIfExists, tempPathFor } from "./fs-util.js";
import type { LockBackend } from "./lease.js";
import type { LockInfo } from "./types.js";

/** A lock stored as a 0600 JSON file (`<state>.lock`), shared by every process that can see the file. */
export class FileLockBackend implements LockBackend {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  async create(info: LockInfo): Promise<boolean> {
    await ensureDir(this.#path);
    return createExclusive(this.#path, serialize(info));
  }

  async read(): Promise<LockInfo | undefined> {
    const bytes = await readIfExists(this.#path);
    return bytes === undefined ? undefined : this.#parse(bytes);
  }

  async renew(info: LockInfo): Promise<boolean> {
    const current = await this.read();
    if (current?.id !== info.id) return false;
    await atomicWrite(this.#path, serialize(info));
    return true;
  }

  async removeIf(id: string): Promise<boolean> {
    if ((await this.read())?.id !== id) return false;
    // Move the lock aside first and check what we moved: a plain unlink after the read could delete a
    // lock another process created in between.
    const aside = tempPathFor(this.#path);
    try {
      await rename(this.#path, aside);
    } catch (error) {
      if (isErrno(error, "ENOENT")) return false;
      throw error;
    }
    try {
      const moved = await readIfExists(aside);
      if (moved !== undefined && this.#parse(moved).id === id) return true;
      // Not ours after all: put it back unless someone has created a new lock meanwhile.
      await link(aside, this.#path).catch((error: unknown) => {
        if (!isErrno(error, "EEXIST")) throw error;
      });
      return false;
    } finally {
      await rm(aside, { force: true });
    }
  }

  #parse(bytes: Uint8Array): LockInfo {
    let raw: Partial<Record<keyof LockInfo, unknown>> | undefined;
    try {
      raw = JSON.parse(Buffer.from(bytes).toString("utf8")) as typeof raw;
    } catch {
      raw = undefined;
    }
    const fields = ["id", "owner", "operation", "acquiredAt", "expiresAt"] as const;
    if (raw === undefined || raw === null || !fields.every((f) => typeof raw[f] === "string")) {
      throw new LockHeldError(
        `The lock file ${this.#path} is unreadable (a process may be writing it right now). If no k3sinfra command is running for this cluster, delete that file.`,
      );
    }
    const { host, pid, processStart, ...info } = raw as LockInfo;
    // The holder's process fields only serve to take a dead holder's lock over: keep them only when well formed.
    return {
      ...info,
      ...(typeof host === "string" && Number.isInteger(pid) ? { host, pid } : {}),
      ...(typeof processStart === "string" ? { processStart } : {}),
    };
  }
}

function serialize(info: LockInfo): string {
  return `${JSON.stringify(info, null, 2)}\n`;
}

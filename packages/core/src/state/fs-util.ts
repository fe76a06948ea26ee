import { randomUUID } from "node:crypto";
import { link, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** A unique temp path beside `path`, so a rename onto `path` never crosses filesystems. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
}

/** True for a Node fs error with this `code`. */
export function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

/** Creates the parent directory (0700: state holds infrastructure details) when it is missing. */
export async function ensureDir(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
}

/** The file's bytes, or `undefined` when it does not exist. */
export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
}

/** Flushes a directory entry change (rename, link) to disk; a no-op where directories cannot be opened. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (error) {
    // Windows cannot open or fsync a directory; the rename itself is still atomic there.
    if (!isErrno(error, "EISDIR") && !isErrno(error, "EPERM") && !isErrno(error, "EINVAL")) throw error;
  } finally {
    await handle?.close();
  }
}

/** Writes a complete, fsynced 0600 temp file beside `path` and returns its path. */
async function writeTemp(path: string, data: string | Uint8Array): Promise<string> {
  const temp = tempPathFor(path);
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  return temp;
}

/** Replaces `path` atomically: a crash leaves the old or the new content, never a torn file. */
export async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  const temp = await writeTemp(path, data);
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(dirname(path));
}

/**
 * Creates `path` only if it does not exist, with its full content already in place (returns false if it
 * exists). A hard link is exclusive like O_EXCL, but readers never see the empty file O_EXCL leaves
 * between create and write.
 */
export async function createExclusive(path: string, data: string | Uint8Array): Promise<boolean> {
  const temp = await writeTemp(path, data);
  try {
    await link(temp, path);
  } catch (error) {
    if (isErrno(error, "EEXIST")) return false;
    // Filesystems without hard links (some network mounts): plain O_EXCL, then write.
    if (isErrno(error, "EPERM") || isErrno(error, "ENOTSUP") || isErrno(error, "ENOSYS")) {
      return createWithExcl(path, data);
    }
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
  await fsyncDir(dirname(path));
  return true;
}

async function createWithExcl(path: string, data: string | Uint8Array): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "wx", 0o600);
  } catch (error) {
    if (isErrno(error, "EEXIST")) return false;
    throw error;
  }
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsyncDir(dirname(path));
  return true;
}

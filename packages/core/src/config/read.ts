import { constants } from "node:fs";
import { lstat, open, readlink, stat } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { isAlias, isNode, LineCounter, parseDocument, visit } from "yaml";
import { InvalidConfigError } from "../errors.js";

/** A config is a few kilobytes; anything over this is the wrong file (a log, a binary, a disk image). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Tags of YAML's core schema: explicit ones are harmless. Any other (`!!js/function`, `!Ref`) is refused. */
const CORE_TAGS = new Set(
  ["str", "int", "float", "bool", "null", "map", "seq"].map((t) => `tag:yaml.org,2002:${t}`),
);

const fail = (file: string, message: string, cause?: unknown): never => {
  throw new InvalidConfigError([{ path: "(file)", message: `${file} ${message}` }], { cause });
};

/** Why `file` cannot be a config, from its metadata alone; never opens it (a FIFO would block forever). */
async function checkKind(file: string): Promise<number> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ELOOP")
      return fail(file, "is a symbolic link that loops back on itself: point it at the config file", error);
    if (code === "ENOENT") {
      const link = await lstat(file).catch(() => undefined);
      if (link?.isSymbolicLink())
        return fail(
          file,
          `is a symbolic link to ${await readlink(file).catch(() => "?")}, which does not exist: fix the link or pass the file itself`,
          error,
        );
      return fail(file, "does not exist: create one with `k3sinfra init`, or pass --config <path>", error);
    }
    if (code === "EACCES")
      return fail(file, "cannot be read: permission denied (check its mode and owner)", error);
    if (code === "ENOTDIR")
      return fail(file, "is not a path to a file: a part of it is a file, not a directory", error);
    return fail(file, `cannot be read: ${(error as Error).message}`, error);
  }
  if (info.isDirectory())
    return fail(file, "is a directory: pass the config file inside it, e.g. --config <dir>/k3sinfra.yaml");
  if (info.isFIFO())
    return fail(file, "is a named pipe (FIFO): k3sinfra reads a config only from a regular file");
  if (info.isSocket()) return fail(file, "is a socket: k3sinfra reads a config only from a regular file");
  if (info.isCharacterDevice() || info.isBlockDevice())
    return fail(file, "is a device: k3sinfra reads a config only from a regular file");
  if (!info.isFile()) return fail(file, "is not a regular file");
  if (info.size > MAX_CONFIG_BYTES)
    return fail(
      file,
      `is ${info.size} bytes, over the 1 MiB a config may have (a config is a few kilobytes): is this the right file?`,
    );
  return info.size;
}

/** Reads at most MAX_CONFIG_BYTES + 1 bytes; the file is rechecked through its descriptor (it may have changed). */
async function readBytes(file: string): Promise<Buffer> {
  await checkKind(file);
  // O_NONBLOCK: should the path have become a FIFO since the check, opening it still returns at once.
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: unknown) =>
    fail(file, `cannot be opened: ${(error as Error).message}`, error),
  );
  try {
    if (!(await handle.stat()).isFile()) return fail(file, "is not a regular file");
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_CONFIG_BYTES)
        return fail(file, "is over the 1 MiB a config may have (a config is a few kilobytes)");
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

const lineAndColumn = (text: string, offset: number): string => {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
};

/** The text of a config file: UTF-8 (a BOM is allowed), nothing else. */
function decode(file: string, bytes: Buffer): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    return fail(file, "is UTF-16 text: save it as UTF-8");
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (error) {
    const lossy = new TextDecoder("utf-8").decode(bytes);
    const at = lossy.indexOf("\uFFFD");
    return fail(
      file,
      `is not UTF-8 text (a byte that is not UTF-8 at ${lineAndColumn(lossy, Math.max(at, 0))}): save it as UTF-8`,
      error,
    );
  }
}

/**
 * YAML without the parts that turn a config into a program or a bomb: tags other than the core schema's
 * (`!!js/function`, custom `!tags`) and aliases (`*name`, the "billion laughs" expansion). Duplicate keys,
 * several documents and syntax errors are refused with their line and column.
 */
function parseYamlConfig(file: string, text: string): unknown {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
  const at = (offset: number | undefined) => {
    const p = lines.linePos(offset ?? 0);
    return `line ${p.line}, column ${p.col}`;
  };
  const first = doc.errors[0];
  if (first) {
    const why =
      first.code === "DUPLICATE_KEY"
        ? "a key appears twice in one mapping: keep one"
        : first.code === "MULTIPLE_DOCS"
          ? "holds several YAML documents (`---`): keep one"
          : first.message.split("\n")[0];
    return fail(file, `is not valid YAML at ${at(first.pos[0])}: ${why}`, first);
  }
  let refused: string | undefined;
  visit(doc, (_key, node) => {
    if (isAlias(node)) {
      refused = `uses a YAML alias (*${node.source}) at ${at(node.range?.[0])}: write the value out; aliases are not allowed in a config`;
      return visit.BREAK;
    }
    if (isNode(node) && node.tag && !CORE_TAGS.has(node.tag)) {
      refused = `uses the YAML tag '${node.tag.replace("tag:yaml.org,2002:", "!!")}' at ${at(node.range?.[0])}: remove it; a config holds plain values only`;
      return visit.BREAK;
    }
    if (isNode(node) && node.anchor) {
      refused = `defines a YAML anchor (&${node.anchor}) at ${at(node.range?.[0])}: remove it; anchors and aliases are not allowed in a config`;
      return visit.BREAK;
    }
    return undefined;
  });
  if (refused) return fail(file, refused);
  // No alias can remain; the limit is a second guard should one slip through.
  return doc.toJS({ maxAliasCount: 0 });
}

/** A config as read, not yet parsed: the raw object and the directory relative paths resolve from. */
export interface ConfigSource {
  /** The spec as written (`ClusterConfigInput` when it is valid); `parseConfig` checks it. */
  readonly raw: unknown;
  readonly baseDir: string;
  /** The file it came from, if any; named in errors. */
  readonly file?: string;
}

/**
 * Step 1 of 3 (read → `parseConfig` → `resolveConfig`): reads a YAML or JSON config file, or takes an object
 * as is, and returns its source without validating it. Directories, FIFOs, devices, sockets, symlink
 * loops, non-UTF-8 text, oversized files, YAML tags and aliases are refused with a message that says what the
 * file is and what to do, without blocking: nothing but a regular file is ever opened.
 */
export async function readConfig(
  spec: string | object,
  options: { readonly baseDir?: string | undefined } = {},
): Promise<ConfigSource> {
  const baseDir = options.baseDir ?? process.cwd();
  if (typeof spec !== "string") return { raw: spec, baseDir };
  const file = resolve(baseDir, spec);
  const text = decode(file, await readBytes(file));
  const json = extname(file).toLowerCase() === ".json";
  if (text.trim() === "")
    fail(file, "is empty: write a config in it (`k3sinfra init` writes a starting point)");
  let raw: unknown;
  if (json) {
    try {
      raw = JSON.parse(text.replace(/^\uFEFF/, ""));
    } catch (error) {
      fail(file, `is not valid JSON: ${(error as Error).message}`, error);
    }
  } else raw = parseYamlConfig(file, text);
  return { raw, baseDir: dirname(file), file };
}

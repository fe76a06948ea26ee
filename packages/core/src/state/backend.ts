import type { ConfigIssue } from "../errors.js";
import type { LockBackend } from "./lease.js";

/** One stored object and the version a conditional write must name to replace it. */
export interface StoredObject {
  readonly bytes: Uint8Array;
  /** Opaque version (an ETag, a generation, a content hash): changes with every write. */
  readonly version: string;
}

/**
 * Where a state lives, reduced to what a shared store needs: a versioned read, a conditional write, a leased
 * lock, list and delete. `BackendStateStore` turns any backend into a `StateStore` (codec, lineage and serial
 * checks, sealed secrets, lease renewal), so a backend holds bytes and never sees a secret in the clear.
 */
export interface StateBackend {
  /** Where the state is, for messages: a path, or a URL such as `<scheme>://bucket/key`. */
  readonly location: string;
  /** True when the state leaves this machine: a machine-local key file is refused for its secrets. */
  readonly remote: boolean;
  /** The stored state and its version; undefined when none exists. */
  read(): Promise<StoredObject | undefined>;
  /**
   * Stores `bytes` only if the stored version is still `expected` (undefined: only if nothing is stored), all
   * at once (a reader sees the old or the new bytes, never a mix). Returns the new version, or undefined when
   * the precondition failed (someone else wrote first), in which case nothing was written.
   */
  write(bytes: Uint8Array, expected: string | undefined): Promise<string | undefined>;
  /** The lock beside the state: created only if absent, renewed and removed only by its holder. */
  readonly lock: LockBackend;
  /** Deletes the state (and its lock); nothing happens when there is none. */
  delete(): Promise<void>;
  /** Cluster names whose state lives beside this one (same bucket and prefix, same folder). */
  list?(): Promise<string[]>;
  /** Read-only checks before use (reachable, permissions, versioning); returns warnings, throws on errors. */
  preflight?(): Promise<string[]>;
  /** Wraps the key of the state's secrets with a managed key (when configured), instead of a passphrase. */
  readonly keyWrapper?: KeyWrapper | undefined;
  /** What to configure for a key when neither a wrapper nor a passphrase is available (one sentence). */
  readonly keyHint?: string;
  /** Where an earlier version of the state can be found, for messages (default: the backend's versions). */
  readonly previousVersion?: string;
}

/**
 * A managed key that wraps the data key of a state's secrets (envelope encryption): the data key is made
 * fresh, stored only wrapped beside the ciphertext, and unwrapped by whoever may use the managed key.
 */
export interface KeyWrapper {
  /** Short name recorded in the state, e.g. the service's name. */
  readonly name: string;
  /** The managed key's id, recorded in the state so readers know which key to ask for. */
  readonly keyId: string;
  /** A new 32-byte data key and its wrapped form, bound to `context` (authenticated, not secret). */
  generate(context: Readonly<Record<string, string>>): Promise<{ plaintext: Buffer; wrapped: string }>;
  /** The data key `wrapped` holds; throws `StateKeyError` naming the key when it cannot be unwrapped. */
  unwrap(wrapped: string, context: Readonly<Record<string, string>>): Promise<Buffer>;
}

/** What a backend factory is given besides its block of the config. */
export interface StateBackendContext {
  /** The cluster's name (default key names derive from it). */
  readonly cluster: string;
  /** Environment to read credentials and endpoints from. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths resolve from. */
  readonly baseDir: string;
}

/**
 * A backend a provider offers (`stateBackends` on its descriptor), chosen with `state.backend`. Importing the
 * descriptor loads no SDK: `create` only builds objects, the backend loads its client on first use.
 */
export interface StateBackendFactory<Options = unknown> {
  /** Validates the `state:` block (paths relative to it, e.g. `bucket`); returns typed options or issues. */
  parse(
    raw: Readonly<Record<string, unknown>>,
  ): { ok: true; value: Options } | { ok: false; issues: ConfigIssue[] };
  /** The backend for these options. */
  create(options: Options, ctx: StateBackendContext): StateBackend;
}

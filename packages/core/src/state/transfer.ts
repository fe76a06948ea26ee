import { readdir } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { NotFoundError } from "../errors.js";
import { decodeState, type StateDocument } from "./codec.js";
import { StateConflictError, StateCorruptError } from "./errors.js";
import { readIfExists } from "./fs-util.js";
import type { OpenedStateStore } from "./open.js";
import type { ClusterState, Lock } from "./types.js";

/** What `migrateState` did. */
export interface MigrateResult {
  readonly cluster: string;
  readonly serial: number;
  readonly from: string;
  readonly to: string;
}

// Everything but the secrets, as the codec stores it: what a migrated copy must match field by field.
const comparable = (s: ClusterState) => ({ ...s, secrets: undefined });

/**
 * Moves a cluster's state from one store to another under both locks: reads it whole (secrets decrypted with
 * the source's key, so a wrong passphrase or key fails here, before anything is written), refuses a
 * destination that already holds a state, writes it (sealed with the destination's key), reads it back and
 * compares every field and secret, and only then deletes the source. Any failure leaves the source as it was.
 */
export async function migrateState(from: OpenedStateStore, to: OpenedStateStore): Promise<MigrateResult> {
  if (from.location === to.location)
    throw new StateConflictError(`The state is already at ${to.location}; nothing to migrate.`);
  const locks: Lock[] = [];
  try {
    locks.push(await from.store.lock("state migrate"));
    locks.push(await to.store.lock("state migrate"));
    const state = await from.store.read();
    if (state === undefined)
      throw new NotFoundError(`No state at ${from.location} to migrate; nothing was changed.`);
    const existing = await to.store.read({ secrets: false });
    if (existing !== undefined) {
      throw new StateConflictError(
        `${to.location} already holds a state (cluster ${existing.cluster}, serial ${existing.serial}); nothing was copied. If it is stale, move it away first; if it is the current one, point the config at it instead.`,
      );
    }
    await to.store.write(state);
    const back = await to.store.read();
    if (
      back === undefined ||
      !isDeepStrictEqual(comparable(back), comparable(state)) ||
      !isDeepStrictEqual(back.secrets, state.secrets)
    ) {
      throw new StateCorruptError(
        `The state read back from ${to.location} differs from ${from.location}'s; ${from.location} was kept. Check ${to.location} before trying again.`,
      );
    }
    await from.store.remove();
    return { cluster: state.cluster, serial: state.serial, from: from.location, to: to.location };
  } finally {
    for (const lock of locks.reverse()) await lock.release().catch(() => undefined);
  }
}

/** A stored state with its secrets masked: their form and key, never their values or ciphertext. */
export interface PulledState extends Omit<StateDocument, "secrets"> {
  readonly secrets:
    | { readonly sealedWith: string; readonly keyId?: string; readonly values: "********" }
    | undefined;
}

/** The stored state as JSON with its secrets masked; needs no key. `undefined` when none is stored. */
export async function pullState(opened: OpenedStateStore): Promise<PulledState | undefined> {
  const bytes = opened.backend ? (await opened.backend.read())?.bytes : await readIfExists(opened.location);
  if (bytes === undefined) return undefined;
  const doc = decodeState(bytes, opened.location, `${opened.location}'s earlier versions`);
  const sealed = doc.secrets;
  return {
    ...doc,
    secrets: sealed && {
      sealedWith: sealed.key === "wrapped" ? (sealed.wrapped?.by ?? "wrapped") : sealed.key,
      ...(sealed.wrapped ? { keyId: sealed.wrapped.keyId } : {}),
      values: "********",
    },
  };
}

/** Clusters whose state is beside this one: the backend's listing, or `*.state.json` files in the state's folder. */
export async function listStates(opened: OpenedStateStore): Promise<string[]> {
  if (opened.backend) {
    if (!opened.backend.list) throw new NotFoundError(`The ${opened.name} state backend cannot list states.`);
    return opened.backend.list();
  }
  const suffix = ".state.json";
  if (!basename(opened.location).endsWith(suffix)) return [];
  const names = await readdir(dirname(opened.location)).catch(() => [] as string[]);
  return names
    .filter((n) => n.endsWith(suffix))
    .map((n) => n.slice(0, -suffix.length))
    .sort();
}

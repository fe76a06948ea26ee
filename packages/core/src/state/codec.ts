import type { SealedSecrets } from "./cipher.js";
import { StateCorruptError } from "./errors.js";
import {
  type ClusterState,
  type DeposedRecord,
  type Intent,
  type ResourceRecord,
  STATE_VERSION,
} from "./types.js";

/** A state as stored: readable JSON, with the secrets sealed. */
export interface StateDocument extends Omit<ClusterState, "secrets"> {
  readonly secrets: SealedSecrets | undefined;
}

/** Serializes `state` field by field, so nothing outside the known shape (or a stray plaintext) is written. */
export function encodeState(state: ClusterState, secrets: SealedSecrets | undefined): string {
  const doc: StateDocument = {
    version: state.version,
    lineage: state.lineage,
    serial: state.serial,
    cluster: state.cluster,
    ...(state.clusterId ? { clusterId: state.clusterId } : {}),
    hostname: state.hostname,
    resources: state.resources,
    journal: state.journal,
    ...(state.deposed && state.deposed.length > 0 ? { deposed: state.deposed } : {}),
    secrets,
    outputs: state.outputs,
    ...(state.applied ? { applied: state.applied } : {}),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses and checks a stored state; `where` names it in errors. Secrets stay sealed. */
export function decodeState(bytes: Uint8Array, where: string, backup: string): StateDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new StateCorruptError(
      `The state file ${where} is not valid JSON. The previous version is in ${backup}; check it and copy it over if it is right.`,
      { cause: error },
    );
  }
  const problem = (what: string) =>
    new StateCorruptError(
      `The state file ${where} is not a k3sinfra state (${what}). The previous version is in ${backup}.`,
    );
  if (!isObject(raw)) throw problem("not an object");
  if (typeof raw.version !== "number") throw problem("no version");
  if (raw.version !== STATE_VERSION) {
    throw new StateCorruptError(
      `The state file ${where} has format version ${raw.version}, but this k3sinfra reads version ${STATE_VERSION}${raw.version > STATE_VERSION ? "; upgrade k3sinfra" : ""}.`,
    );
  }
  if (typeof raw.lineage !== "string" || raw.lineage === "") throw problem("no lineage");
  if (!Number.isSafeInteger(raw.serial) || (raw.serial as number) < 0) throw problem("no valid serial");
  if (typeof raw.cluster !== "string") throw problem("no cluster name");
  if (!isObject(raw.resources)) throw problem("resources is not an object");
  if (!Array.isArray(raw.journal)) throw problem("journal is not a list");
  if (raw.secrets !== undefined && !isObject(raw.secrets)) throw problem("secrets are not sealed");
  if (raw.outputs !== undefined && !isObject(raw.outputs)) throw problem("outputs is not an object");
  if (raw.clusterId !== undefined && typeof raw.clusterId !== "string")
    throw problem("clusterId is not a string");
  if (raw.deposed !== undefined && !Array.isArray(raw.deposed)) throw problem("deposed is not a list");
  if (raw.applied !== undefined && !isObject(raw.applied)) throw problem("applied is not an object");
  return {
    version: STATE_VERSION,
    lineage: raw.lineage,
    serial: raw.serial as number,
    cluster: raw.cluster,
    ...(raw.clusterId ? { clusterId: raw.clusterId as string } : {}),
    hostname: typeof raw.hostname === "string" ? raw.hostname : undefined,
    resources: raw.resources as Record<string, ResourceRecord>,
    journal: raw.journal as Intent[],
    ...(raw.deposed ? { deposed: raw.deposed as DeposedRecord[] } : {}),
    secrets: raw.secrets as SealedSecrets | undefined,
    outputs: raw.outputs as Record<string, unknown> | undefined,
    ...(raw.applied ? { applied: raw.applied as Record<string, unknown> } : {}),
  };
}

import { randomUUID } from "node:crypto";
import { StateConflictError } from "./errors.js";
import { type ClusterState, STATE_VERSION } from "./types.js";

/** Fields `nextState` may change; identity fields (version, lineage, cluster) and the serial are managed. */
export type StatePatch = Partial<Omit<ClusterState, "version" | "lineage" | "serial" | "cluster">>;

/** A fresh state for `cluster`: new random lineage, serial 0, no resources, no journal, no secrets. */
export function emptyState(cluster: string): ClusterState {
  return {
    version: STATE_VERSION,
    lineage: randomUUID(),
    serial: 0,
    cluster,
    hostname: undefined,
    resources: {},
    journal: [],
    secrets: undefined,
    outputs: undefined,
  };
}

/** The state to write after `prev`: `prev` with `patch` applied and the serial bumped by one. */
export function nextState(prev: ClusterState, patch: StatePatch = {}): ClusterState {
  return { ...prev, ...patch, serial: prev.serial + 1 };
}

/**
 * Refuses a write that would lose someone else's changes: the lineage must match what is stored and the
 * serial must be exactly one more. With nothing stored, any state may be written (a new cluster).
 */
export function assertWritable(
  stored: Pick<ClusterState, "lineage" | "serial"> | undefined,
  next: ClusterState,
  where: string,
): void {
  if (stored === undefined) return;
  if (stored.lineage !== next.lineage) {
    throw new StateConflictError(
      `Refusing to write state for cluster ${next.cluster}: ${where} belongs to a different state (lineage ${stored.lineage}, not ${next.lineage}). Another cluster's state may be at this location; nothing was written.`,
    );
  }
  if (next.serial !== stored.serial + 1) {
    throw new StateConflictError(
      `Refusing to write state for cluster ${next.cluster}: ${where} is at serial ${stored.serial}, so the next write must be serial ${stored.serial + 1}, not ${next.serial}. Another process probably changed it; read the state again and retry.`,
    );
  }
}

/**
 * What a kind of Compute resource (compute-kinds.ts) and backend health (health.ts) need of the Compute service:
 * its clock, scale, ids, state and lookups, and its operations. Compute implements it; they import this, not
 * compute.ts, so no module imports one that imports it back.
 */
import type { Rng } from "../rng.js";
import type { ComputeResource, GcpState } from "./model.js";
import type { Operations } from "./operations.js";

export interface ComputeCore {
  /** The emulator's clock, epoch ms. */
  readonly now: number;
  /** 1 = real durations. */
  readonly timeScale: number;
  /** How long a k3sinfra server takes to boot at time scale 1. */
  readonly bootTimeMs: number;
  /** Seeded ids and fingerprints. */
  readonly rng: Rng;
  /** The cloud's state. */
  readonly store: GcpState;
  /** Zonal, regional and global operations. */
  readonly ops: Operations;
  /** A resource by its path; a 404 error when absent. */
  get(path: string): ComputeResource;
  /** A resource by its path, or undefined. */
  find(path: string): ComputeResource | undefined;
  /** When an instance's health check passes (boot-timeline.ts): `Infinity` not yet, undefined while it does not run. */
  healthyFrom(instance: ComputeResource): number | undefined;
}

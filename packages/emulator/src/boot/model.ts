/**
 * The boot timeline's model, shared by every cloud that boots k3sinfra servers: the bootstrap's stages and their
 * offsets, systemd's restart delays, the injected faults as persisted, and the timeline's shape (timeline.ts
 * computes it). Cloud-neutral: nothing here knows an API; each cloud renders its own console around it.
 *
 * The offsets are estimates at time scale 1, not measurements: Ubuntu 24.04 reaches cloud-init's final stage in
 * ~25–40 s (kernel + systemd + cloud-init init/config), installing K3s (download of the install script and
 * binary, airgap-less) takes about a minute, and K3s on an external MySQL datastore is ready ~30 s after it
 * starts (K3s HA docs: https://docs.k3s.io/datastore/ha). `EmulatorOptions.bootTimeMs` stretches them together.
 */
import type { BootStage } from "../types.js";

/** The bootstrap's stages, in order (the boot script's `stage=<name>` lines). */
export const BOOT_STAGES: readonly BootStage[] = [
  "secrets",
  "metadata",
  "datastore",
  "k3s-install",
  "k3s-ready",
  "rancher-manifests",
  "kubeconfig",
  "done",
];

/** Seconds after the boot started each stage starts, at time scale 1 and the default boot time (estimates). */
export const STAGE_OFFSETS: Record<BootStage, number> = {
  secrets: 40,
  metadata: 42,
  datastore: 45,
  "k3s-install": 50,
  "k3s-ready": 110,
  "rancher-manifests": 140,
  kubeconfig: 145,
  done: 150,
};

/** From the boot's start to the `done` stage line, at time scale 1 (`EmulatorOptions.bootTimeMs` default). */
export const DEFAULT_BOOT_TIME_MS = STAGE_OFFSETS.done * 1000;

/** A failing attempt takes this long before it reports the failure (seconds at time scale 1; an estimate). */
export const ATTEMPT_SECONDS = 10;

/**
 * Then systemd runs the unit again, as the unit core writes says (`Restart=on-failure`, `RestartSec=15`,
 * `RestartSteps=10`, `RestartMaxDelaySec=300`): the delay grows from 15 s to 300 s in 10 exponential steps
 * (systemd.service(5), https://www.freedesktop.org/software/systemd/man/latest/systemd.service.html#RestartSteps=).
 */
export const RESTART_SECONDS = 15;
/** `RestartSteps=` of the unit (see RESTART_SECONDS). */
export const RESTART_STEPS = 10;
/** `RestartMaxDelaySec=` of the unit (see RESTART_SECONDS). */
export const RESTART_MAX_SECONDS = 300;

/** The delay before the r-th restart (1-based), in ms at time scale 1. */
export const restartDelay = (r: number): number =>
  1000 *
  (r >= RESTART_STEPS + 1
    ? RESTART_MAX_SECONDS
    : RESTART_SECONDS * (RESTART_MAX_SECONDS / RESTART_SECONDS) ** ((r - 1) / RESTART_STEPS));

/** At most this many failed attempts are rendered (older ones scrolled out of the console buffer long ago). */
export const MAX_ATTEMPTS_SHOWN = 20;

/** One injected failure of an instance's bootstrap at `stage` (back door), active from `setAt` to `clearedAt`. */
export interface BootFault {
  stage: BootStage;
  reason: string;
  setAt: number;
  clearedAt?: number;
}

/**
 * A fault for every instance carrying `tags` (tags on AWS, labels on Google Cloud), existing or launched later,
 * from `since` to `until`. `fromOptions`: made from `EmulatorOptions.bootFaults` (closed when a later start no
 * longer lists it).
 */
export interface BootFaultRule {
  tags: Record<string, string>;
  stage: BootStage;
  reason: string;
  since: number;
  until?: number;
  fromOptions?: boolean;
}

/** The faults as persisted with a cloud's state: per instance id, and the rules by tags. */
export interface BootTimelineState {
  faults: Record<string, BootFault[]>;
  rules: BootFaultRule[];
}

/** One console line at an instant of the emulator's clock. */
export interface Line {
  at: number;
  text: string;
}

/** One instance's current boot as time has led it. */
export interface Timeline {
  /** When the boot started (the instance began running). */
  bootAt: number;
  /** Console lines up to the instant asked for. */
  lines: Line[];
  /** When K3s became ready (the boot passed `k3s-ready`); undefined: not (yet). */
  readyAt?: number;
  /** The last stage line and, if that attempt failed, why. */
  stage?: BootStage;
  failure?: string;
}

/** The reason of a fault set without one. */
export const DEFAULT_REASON = "injected by the emulator (failBootstrap)";

/** Whether a string names a stage. */
export const isStage = (s: string): s is BootStage => (BOOT_STAGES as readonly string[]).includes(s);

/** The stage a string names; throws naming the stages otherwise. */
export function checkStage(stage: string): BootStage {
  if (!isStage(stage)) throw new Error(`unknown boot stage "${stage}"; one of ${BOOT_STAGES.join(", ")}`);
  return stage;
}

/** Whether `tags` carry every entry of `want`. */
export const matches = (tags: Record<string, string>, want: Record<string, string>): boolean =>
  Object.entries(want).every(([k, v]) => tags[k] === v);

/** Whether two tag sets are the same. */
export const sameTags = (a: Record<string, string>, b: Record<string, string>): boolean =>
  Object.keys(a).length === Object.keys(b).length && matches(a, b);

/** `2026-01-02T03:04:05Z`: the stage lines' UTC stamp (core's bootstrap writes `date -u +%Y-%m-%dT%H:%M:%SZ`). */
export const iso = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/**
 * One k3sinfra server's boot timeline, computed lazily from timestamps like every other lifecycle: the cloud's
 * own first lines (kernel, cloud-init: `preamble`), then the bootstrap's systemd unit and stage lines, with the
 * injected faults failing attempts and systemd restarting the unit. Each cloud feeds it its instance's boot
 * start and renders the result (EC2 GetConsoleOutput, Compute Engine's serial port) and gates its load balancer
 * health on `readyAt`: a server answers checks only once K3s is ready (Traefik listens through K3s's service
 * load balancer), i.e. once its boot passed `k3s-ready`.
 *
 * Stage lines are in the format core's bootstrap/stages.ts writes to /dev/console: `<UTC time>
 * k3sinfra-bootstrap: stage=<name> start`, `… stage=<name> ok`, and `… stage=<name> failed: <reason>`.
 */
import { Buffer } from "node:buffer";
import type { BootStage } from "../types.js";
import {
  ATTEMPT_SECONDS,
  BOOT_STAGES,
  type BootFault,
  DEFAULT_BOOT_TIME_MS,
  DEFAULT_REASON,
  iso,
  type Line,
  MAX_ATTEMPTS_SHOWN,
  RESTART_MAX_SECONDS,
  RESTART_STEPS,
  restartDelay,
  STAGE_OFFSETS,
  type Timeline,
} from "./model.js";

/** What a cloud knows of one instance's current boot. */
export interface BootInput {
  /** When the boot started (epoch ms of the emulator's clock). */
  bootAt: number;
  /** Render up to this instant (now, or where the instance went down, or an earlier snapshot). */
  end: number;
  /** The emulator's time scale (1 = real durations). */
  scale: number;
  /** `EmulatorOptions.bootTimeMs` (undefined: the default). */
  bootTimeMs: number | undefined;
  /** Whether the instance runs the k3sinfra bootstrap; otherwise only the preamble, and ready at once. */
  k3sinfra: boolean;
  /** The faults that apply to it (BootFaultBook.of). */
  faults: BootFault[];
  /** The cloud's lines before the bootstrap, `[seconds after boot, text]`; `at(s)` is the instant of second s. */
  preamble: (at: (s: number) => number) => [number, string][];
}

/** Milliseconds of the emulator's clock per second of the default boot: `bootTimeMs` stretches it, `scale` too. */
export const stretchOf = (bootTimeMs: number | undefined, scale: number): number =>
  ((bootTimeMs ?? DEFAULT_BOOT_TIME_MS) / DEFAULT_BOOT_TIME_MS) * 1000 * scale;

/** The unit core writes (bootstrap/stages.ts `BOOTSTRAP_UNIT_NAME`). */
const UNIT = "k3sinfra-bootstrap.service";

/** The boot up to `input.end`: undefined while it has not started. */
export function bootTimeline(input: BootInput): Timeline | undefined {
  const { bootAt, end, scale, faults } = input;
  if (end < bootAt) return undefined;
  const stretch = stretchOf(input.bootTimeMs, scale);
  const lines: Line[] = [];
  // The kernel's uptime stamp, in the node's own seconds (time scale undone).
  const up = (at: number): string =>
    `[${(scale > 0 ? (at - bootAt) / scale / 1000 : 0).toFixed(6).padStart(12)}]`;
  const sec = (s: number) => bootAt + s * stretch;
  const push = (at: number, text: string) => {
    if (at <= end) lines.push({ at, text });
  };
  for (const [s, text] of input.preamble(sec)) push(sec(s), `${up(sec(s))} ${text}`);
  const timeline: Timeline = { bootAt, lines };
  if (!input.k3sinfra) {
    timeline.readyAt = bootAt;
    return timeline;
  }
  const systemd = (at: number, text: string) => push(at, `${up(at)} ${text}`);
  systemd(sec(STAGE_OFFSETS.secrets - 2), `         Starting ${UNIT}...`);
  // The script's stage lines (core's bootstrap/stages.ts writes them to /dev/console): `<UTC time>
  // k3sinfra-bootstrap: stage=<name> start|ok|failed[: <detail>]`.
  const stageLine = (at: number, stage: BootStage, event: "start" | "ok" | "failed", detail?: string) => {
    push(at, `${iso(at)} k3sinfra-bootstrap: stage=${stage} ${event}${detail ? `: ${detail}` : ""}`);
    if (at <= end) {
      timeline.stage = stage;
      if (event === "failed" && detail) timeline.failure = detail;
      else delete timeline.failure;
    }
  };
  const attempt = ATTEMPT_SECONDS * 1000 * scale;
  // Attempt m of a stage (0 the first) starts at first + since(m): each failed attempt runs `attempt`, then
  // systemd waits its restart delay.
  const since = (m: number): number => {
    let total = 0;
    for (let r = 1; r <= Math.min(m, RESTART_STEPS + 1); r++) total += attempt + restartDelay(r) * scale;
    if (m > RESTART_STEPS + 1)
      total += (m - RESTART_STEPS - 1) * (attempt + RESTART_MAX_SECONDS * 1000 * scale);
    return total;
  };
  // The first attempt (m ≥ 1) starting at or after `t` (`inclusive`), or after it.
  const attemptFrom = (first: number, t: number, inclusive = true): number => {
    const past = (m: number) => (inclusive ? first + since(m) >= t : first + since(m) > t);
    for (let m = 1; m <= RESTART_STEPS + 1; m++) if (past(m)) return m;
    const cycle = Math.max(1, attempt + RESTART_MAX_SECONDS * 1000 * scale);
    let m = RESTART_STEPS + 1 + Math.max(1, Math.floor((t - first - since(RESTART_STEPS + 1)) / cycle));
    while (!past(m)) m++;
    while (m > RESTART_STEPS + 2 && past(m - 1)) m--;
    return m;
  };
  // The fault that fails an attempt of `stage` starting at `at`, if any.
  const activeFault = (stage: BootStage, at: number): BootFault | undefined =>
    faults.find((f) => f.stage === stage && f.setAt <= at && (f.clearedAt === undefined || f.clearedAt > at));
  const reentered = (at: number, j: number) => {
    // systemd runs the unit again; its idempotent re-entry passes the stages done before at once.
    systemd(at, `         Starting ${UNIT}...`);
    for (const before of BOOT_STAGES.slice(0, j)) {
      stageLine(at, before, "start");
      stageLine(at, before, "ok");
    }
  };
  // `shift`: how much later than planned the boot runs, after failed attempts.
  let shift = 0;
  for (let j = 0; j < BOOT_STAGES.length; j++) {
    const stage = BOOT_STAGES[j]!;
    const first = bootAt + STAGE_OFFSETS[stage] * stretch + shift;
    if (first > end) break;
    // The previous stage ends where this one starts.
    if (j > 0) stageLine(first, BOOT_STAGES[j - 1]!, "ok");
    // K3s serves once the boot passed `k3s-ready`, whether or not what comes next succeeds.
    if (j > 0 && BOOT_STAGES[j - 1] === "k3s-ready") timeline.readyAt ??= first;
    // The first attempt no fault fails (Infinity: none will).
    let ok = 0;
    for (let f = activeFault(stage, first); f; ) {
      if (f.clearedAt === undefined) {
        ok = Number.POSITIVE_INFINITY;
        break;
      }
      ok = Math.max(ok + 1, attemptFrom(first, f.clearedAt));
      f = activeFault(stage, first + since(ok));
    }
    // The failed attempts up to `end`, the last few of them (older ones left the console buffer long ago).
    const lastFailed = Math.min(ok, attemptFrom(first, end, false)) - 1;
    for (let m = Math.max(0, lastFailed - MAX_ATTEMPTS_SHOWN + 1); m <= lastFailed; m++) {
      const a = first + since(m);
      const fault = activeFault(stage, a);
      if (m > 0) reentered(a, j);
      stageLine(a, stage, "start");
      stageLine(a + attempt, stage, "failed", fault?.reason ?? DEFAULT_REASON);
      systemd(a + attempt, `[FAILED] Failed to start ${UNIT}.`);
    }
    const at = first + since(ok);
    if (at > end) break;
    if (ok > 0) reentered(at, j);
    stageLine(at, stage, stage === "done" ? "ok" : "start");
    shift += at - first;
  }
  const last = lines.at(-1);
  if (timeline.stage === "done" && last) systemd(last.at, `[  OK  ] Finished ${UNIT}.`);
  return timeline;
}

/** Has this boot failed before `stage`, and not got past it since? */
export function failedBefore(t: Timeline | undefined, stage: BootStage): boolean {
  if (!t?.failure || !t.stage) return false;
  return BOOT_STAGES.indexOf(t.stage) < BOOT_STAGES.indexOf(stage);
}

/** The lines as the console holds them, one per line, only the most recent `limit` bytes when given. */
export function consoleText(lines: readonly Line[], limit?: number): string {
  const text = `${lines.map((l) => l.text).join("\n")}\n`;
  if (limit === undefined || Buffer.byteLength(text) <= limit) return text;
  const bytes = Buffer.from(text);
  return bytes.subarray(bytes.length - limit).toString("utf8");
}

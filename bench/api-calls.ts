// What a cloud account sees of one cluster: the API calls of `up` and `destroy` of 2 servers, and how many of
// them are polls, with core's default poll policy (2–30 s between polls) scaled to the emulator's time scale,
// as `--emulate` runs it.
import type { RequestLogEntry } from "../packages/emulator/src/index.js";
import { type CriticalPath, measureCriticalPath } from "./critical-path.js";
import { scaledDefaultPoll } from "./stats.js";

const READ = /^(Describe|Get|List)/;

/**
 * Polls in one command's log: a read (Describe…, Get…, List…) of an operation the command already read once.
 * The first read of each operation is a lookup; its repeats are waits for a state to change (the datastore
 * `available`, the LB `active`, instances `running`, a DNS change `INSYNC`, targets healthy). This overcounts
 * lookups of several resources of one kind slightly (two servers' first `DescribeInstances`).
 */
export const countPolls = (log: readonly RequestLogEntry[]): number => {
  const seen = new Map<string, number>();
  for (const e of log) {
    if (!READ.test(e.operation)) continue;
    const key = `${e.service}:${e.operation}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  let polls = 0;
  for (const n of seen.values()) polls += n - 1;
  return polls;
};

const byOperation = (log: readonly RequestLogEntry[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const e of log) {
    const key = `${e.service}:${e.operation}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b)));
};

export interface ApiCalls {
  readonly up: number;
  readonly destroy: number;
  readonly byOperation: { readonly up: Record<string, number>; readonly destroy: Record<string, number> };
  readonly polls: {
    readonly up: number;
    readonly destroy: number;
    readonly resources: number;
    /** Emulated minutes of `up` and of `destroy`. */
    readonly minutes: { readonly up: number; readonly destroy: number };
    /** Polls of both commands ÷ (resources × their emulated minutes). */
    readonly perResourceMinute: number;
  };
  /** The same run's critical-path ratios: what polling at the default cadence adds to them. */
  readonly run: CriticalPath;
}

export async function measureApiCalls(timeScale: number): Promise<ApiCalls> {
  const run = await measureCriticalPath(2, timeScale, { poll: scaledDefaultPoll(timeScale) });
  const up = countPolls(run.up.log);
  const destroy = countPolls(run.destroy.log);
  const minutes = { up: run.up.seconds / 60, destroy: run.destroy.seconds / 60 };
  return {
    up: run.up.calls,
    destroy: run.destroy.calls,
    byOperation: { up: byOperation(run.up.log), destroy: byOperation(run.destroy.log) },
    polls: {
      up,
      destroy,
      resources: run.resources,
      minutes,
      perResourceMinute: (up + destroy) / (run.resources * (minutes.up + minutes.destroy)),
    },
    run,
  };
}

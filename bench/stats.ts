// Small helpers shared by the benchmarks: medians, timing, the emulated clock.
import { performance } from "node:perf_hooks";
import type { RequestLogEntry } from "../packages/emulator/src/index.js";

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Median wall milliseconds of `runs` calls of `fn`. */
export const time = async (runs: number, fn: () => Promise<unknown> | unknown): Promise<number> => {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
};

/**
 * Emulated seconds from the first to the last call of `log` (the emulator stamps each call with its wall
 * clock; at time scale s, one emulated second is s real seconds).
 */
export const emulatedSpan = (log: readonly RequestLogEntry[], timeScale: number): number => {
  const first = log[0]?.at ?? 0;
  const last = log.at(-1)?.at ?? first;
  return (last - first) / 1000 / timeScale;
};

/** The poll policy a real cloud sees (core's default, 2–30 s), scaled to the emulator's time scale, as `--emulate` does. */
export const scaledDefaultPoll = (timeScale: number) => ({
  minDelayMs: Math.max(10, Math.round(2_000 * timeScale)),
  maxDelayMs: Math.max(50, Math.round(30_000 * timeScale)),
});

/** Peak resident set size of this process so far, in MB (the kernel's high-water mark). */
export const peakRssMb = (): number => (process.resourceUsage().maxRSS * 1024) / 1e6;

// `pnpm bench`: measures afresh in one run, prints a table with each target of issue 12 beside its value, and
// writes bench/results.json (the latest run; docs/performance.md says how to read it). Ratios are against a
// baseline measured in the same run, so they compare across machines. Targets are reported, never asserted.
import { writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { measureApiCalls } from "./api-calls.js";
import { measureColdStart } from "./cold-start.js";
import { destroyBound, measureCriticalPath, upBound } from "./critical-path.js";
import { durability, heapGrowth, importCore, planScaling } from "./extras.js";
import { measureFleet } from "./fleet.js";
import { printTable, type Row, round } from "./report.js";
import { peakRssMb } from "./stats.js";

/** Emulated durations × 0.02: the datastore's 9 minutes take 11 s, long enough that the process's own work is noise. */
const TIME_SCALE = 0.02;
const COLD_START_RUNS = 21;
const FLEET = 20;

const started = performance.now();
// Other processes on the machine stretch what is CPU-bound here (the fleet, cold start): the load says how quiet it was.
const loadAtStart = loadavg()[0]!;
const step = (what: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${what}`);

step(`cold start: the built CLI against node -e 0, ${COLD_START_RUNS} runs each`);
const cold = measureColdStart(COLD_START_RUNS);

step("critical path: up and destroy at 2 and 7 nodes (a first 2-node run warms the SDK clients up)");
await measureCriticalPath(2, TIME_SCALE);
const cp2 = await measureCriticalPath(2, TIME_SCALE);
const cp7 = await measureCriticalPath(7, TIME_SCALE);

step("API calls and polls: up and destroy of 2 nodes, default poll policy scaled");
const api = await measureApiCalls(TIME_SCALE);

step(`fleet: ${FLEET} clusters at once against one, emulator in memory, then persisted to a file`);
const fleet = await measureFleet(FLEET, TIME_SCALE, false);
const fleetPersisted = await measureFleet(FLEET, TIME_SCALE, true);

step("orchestrator micro-benchmarks (in-memory cloud)");
const extras = {
  importCore: await importCore(),
  planScaling: await planScaling(),
  durability: await durability(),
  heapGrowth: await heapGrowth(),
};
// The process that runs the 20 clusters (bench/fleet-child.mjs, on the built packages), not this harness: its
// high-water mark is what a tool driving a fleet through the library would see. The harness's is reported beside it.
const peak = Math.max(fleet.many.rssMb, fleetPersisted.many.rssMb);
const harnessPeak = peakRssMb();
const seconds = (performance.now() - started) / 1000;
step(
  `done in ${seconds.toFixed(0)} s (load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} now)`,
);

const s = (n: number) => `${n.toFixed(0)} s`;
const ms = (n: number) => `${n.toFixed(0)} ms`;
const rows: Row[] = [
  ...[cp2, cp7].flatMap((r): Row[] => [
    {
      metric: `up.criticalPathRatio (${r.nodes} nodes)`,
      value: r.up.ratio,
      unit: "x",
      target: 1.05,
      note: `${s(r.up.seconds)} vs ${s(r.up.bound)} emulated, ${r.up.calls} calls`,
    },
    {
      metric: `destroy.criticalPathRatio (${r.nodes} nodes)`,
      value: r.destroy.ratio,
      unit: "x",
      target: 1.05,
      note: `${s(r.destroy.seconds)} vs ${s(r.destroy.bound)} emulated, ${r.destroy.calls} calls`,
    },
  ]),
  {
    metric: "coldStartRatio.version",
    value: cold.version.ratio,
    unit: "x",
    target: 2,
    note: `${ms(cold.version.ms)} vs ${ms(cold.version.bareMs)} (node -e 0)`,
  },
  {
    metric: "coldStartRatio.help",
    value: cold.help.ratio,
    unit: "x",
    target: 2,
    note: `${ms(cold.help.ms)} vs ${ms(cold.help.bareMs)}`,
  },
  {
    metric: "coldStartRatio.planNoRefresh",
    value: cold.planNoRefresh.ratio,
    unit: "x",
    target: 4,
    note: `plan --emulate --refresh=false, new cluster: ${ms(cold.planNoRefresh.ms)} vs ${ms(cold.planNoRefresh.bareMs)}`,
  },
  {
    metric: "coldStartRatio.plan",
    value: cold.plan.ratio,
    unit: "x",
    note: `plan --emulate (refreshing), new cluster: ${ms(cold.plan.ms)} vs ${ms(cold.plan.bareMs)}`,
  },
  { metric: "apiCalls.up", value: api.up, unit: "calls", note: "2 nodes, default poll policy scaled" },
  { metric: "apiCalls.destroy", value: api.destroy, unit: "calls", note: "2 nodes" },
  {
    metric: "pollsPerResourceMinute",
    value: api.polls.perResourceMinute,
    unit: "/res·min",
    note: `${api.polls.up} + ${api.polls.destroy} polls, ${api.polls.resources} resources, ${(api.polls.minutes.up + api.polls.minutes.destroy).toFixed(1)} emulated min`,
  },
  {
    metric: "up ratio at the default poll policy (2)",
    value: api.run.up.ratio,
    unit: "x",
    note: `${s(api.run.up.seconds)}: polls every 2–30 s (scaled) instead of 0.25–2.5 s`,
  },
  {
    metric: "destroy ratio at the default poll policy (2)",
    value: api.run.destroy.ratio,
    unit: "x",
    note: `${s(api.run.destroy.seconds)}`,
  },
  {
    metric: `fleet.ratio (${FLEET} clusters)`,
    value: fleet.ratio,
    unit: "x",
    target: 1.5,
    note: `${s(fleet.many.seconds)} vs ${s(fleet.one.seconds)} emulated, ${fleet.many.calls} calls, emulator in memory`,
  },
  {
    metric: `fleet.persistedRatio (${FLEET} clusters)`,
    value: fleetPersisted.ratio,
    unit: "x",
    target: 1.5,
    note: `${s(fleetPersisted.many.seconds)} vs ${s(fleetPersisted.one.seconds)}, emulator persisted to a file (as --emulate)`,
  },
  {
    metric: "peakRssMb",
    value: peak,
    unit: "MB",
    target: 300,
    note: `the process running the ${FLEET} clusters: ${fleet.many.rssMb.toFixed(0)} MB (${fleet.many.liveHeapMb.toFixed(0)} MB live heap) against the emulator in memory, ${fleetPersisted.many.rssMb.toFixed(0)} MB (${fleetPersisted.many.liveHeapMb.toFixed(0)} MB live) persisted; one cluster alone ${fleet.one.rssMb.toFixed(0)} MB; the bench harness itself (tsx, every measurement) ${harnessPeak.toFixed(0)} MB`,
  },
  {
    metric: "extras: import core / its deps",
    value: extras.importCore.ratio,
    unit: "x",
    note: `${ms(extras.importCore.value)} vs ${ms(extras.importCore.baseline)}`,
  },
  {
    metric: "extras: plan 7 nodes / 2 nodes",
    value: extras.planScaling.ratio,
    unit: "x",
    note: `${extras.planScaling.value.toFixed(2)} ms vs ${extras.planScaling.baseline.toFixed(2)} ms`,
  },
  {
    metric: "extras: up 3 nodes file / memory store",
    value: extras.durability.ratio,
    unit: "x",
    note: `${extras.durability.value.toFixed(1)} ms vs ${extras.durability.baseline.toFixed(1)} ms`,
  },
  {
    metric: "extras: heap after 50 plan+up / before",
    value: extras.heapGrowth.ratio,
    unit: "x",
    note: `${extras.heapGrowth.baseline.toFixed(1)} MB → ${extras.heapGrowth.value.toFixed(1)} MB`,
  },
];
const targets = printTable(rows);

const byNodes = <T>(f: (r: typeof cp2) => T) => ({ "2": f(cp2), "7": f(cp7) });
const phase = (which: "up" | "destroy", bound: number) => ({
  criticalPathRatio: byNodes((r) => round(r[which].ratio)),
  seconds: byNodes((r) => round(r[which].seconds, 1)),
  boundSeconds: bound,
  calls: byNodes((r) => r[which].calls),
  /** 2 nodes with core's default poll policy (scaled), as --emulate and a real cloud poll. */
  defaultPollRatio: round(api.run[which].ratio),
});
const fleetJson = (f: typeof fleet) => ({
  ratio: round(f.ratio),
  clusters: f.many.clusters,
  seconds: round(f.many.seconds, 1),
  oneSeconds: round(f.one.seconds, 1),
  calls: f.many.calls,
  rssMb: round(f.many.rssMb, 0),
  liveHeapMb: round(f.many.liveHeapMb, 0),
});
const results = {
  measuredAt: new Date().toISOString(),
  machine: {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? "unknown",
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    platform: `${process.platform}-${process.arch}`,
    node: process.version,
    /** 1-minute load average when the run started and ended (2 cores: above ~0.5 something else was running). */
    loadAverage: { atStart: round(loadAtStart, 2), atEnd: round(loadavg()[0]!, 2) },
  },
  benchSeconds: round(seconds, 0),
  timeScale: TIME_SCALE,
  up: phase("up", upBound()),
  destroy: phase("destroy", destroyBound()),
  coldStartRatio: {
    version: round(cold.version.ratio),
    help: round(cold.help.ratio),
    planNoRefresh: round(cold.planNoRefresh.ratio),
    plan: round(cold.plan.ratio),
  },
  coldStartMs: {
    runs: cold.runs,
    bareNode: round(cold.bareNodeMs, 1),
    version: round(cold.version.ms, 1),
    help: round(cold.help.ms, 1),
    planNoRefresh: round(cold.planNoRefresh.ms, 1),
    plan: round(cold.plan.ms, 1),
  },
  apiCalls: { up: api.up, destroy: api.destroy, byOperation: api.byOperation },
  pollsPerResourceMinute: round(api.polls.perResourceMinute),
  polls: {
    up: api.polls.up,
    destroy: api.polls.destroy,
    resources: api.polls.resources,
    emulatedMinutes: { up: round(api.polls.minutes.up, 2), destroy: round(api.polls.minutes.destroy, 2) },
  },
  fleet: { ...fleetJson(fleet), persisted: fleetJson(fleetPersisted) },
  peakRssMb: round(peak, 0),
  harnessPeakRssMb: round(harnessPeak, 0),
  extras: Object.fromEntries(
    Object.entries(extras).map(([k, e]) => [
      k,
      { ratio: round(e.ratio), value: round(e.value), baseline: round(e.baseline), unit: e.unit },
    ]),
  ),
  targets,
};
const out = join(import.meta.dirname, "results.json");
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`Wrote ${out}.`);

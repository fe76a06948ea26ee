// Benchmarks: ratios against a baseline measured in the same run, so results compare across machines.
// Run with `pnpm bench`; record the results in docs/performance.md.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  FileStateStore,
  MemoryStateStore,
  ProviderRegistry,
  passphraseKeySource,
  plan,
  Secret,
  up,
} from "@k3sinfra/core";
import { createMemoryProvider, MemoryCloud } from "@k3sinfra/core/testing";
import { measureCriticalPath } from "./critical-path.js";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const time = async (runs: number, fn: () => Promise<unknown> | unknown) => {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
};
const root = new URL("..", import.meta.url).pathname;
const env = { ...process.env, TSX_TSCONFIG_PATH: join(root, "tsconfig.base.json") };
const node = (args: string[], cwd = root) =>
  execFileSync(process.execPath, args, { cwd, env, stdio: "pipe" });
const config = (count: number) => ({
  name: "bench",
  provider: "memory",
  region: "memory-1",
  nodes: { count },
  datastore: { deletionProtection: false },
  dns: { zone: "example.com" },
  rancher: { hostname: "rancher.example.com" },
});
const world = () => ({
  registry: new ProviderRegistry().register(createMemoryProvider(new MemoryCloud())),
  poll: { minDelayMs: 1, maxDelayMs: 1 },
});

const results: { name: string; value: string; note: string }[] = [];
const record = (name: string, value: string, note: string) => {
  results.push({ name, value, note });
  console.log(`${name.padEnd(48)} ${value.padStart(10)}  ${note}`);
};

// 1. CLI start-up, built: `k3sinfra --help` against a bare Node process.
{
  const bare = await time(9, () => node(["-e", "0"]));
  const help = await time(9, () => node(["packages/cli/dist/bin.js", "--help"]));
  record(
    "cli --help / bare node",
    `${(help / bare).toFixed(2)}x`,
    `${help.toFixed(0)} ms vs ${bare.toFixed(0)} ms`,
  );
}

// 2. Importing built core against importing only its runtime dependencies: what core itself adds.
{
  const coreDir = join(root, "packages/core");
  const deps = await time(9, () =>
    node(
      [
        "--input-type=module",
        "-e",
        "await import('reflect-metadata'); await import('tsyringe'); await import('zod'); await import('yaml')",
      ],
      coreDir,
    ),
  );
  const core = await time(9, () =>
    node(["--input-type=module", "-e", "await import('@k3sinfra/core')"], coreDir),
  );
  record(
    "import core / import its runtime deps",
    `${(core / deps).toFixed(2)}x`,
    `${core.toFixed(0)} ms vs ${deps.toFixed(0)} ms`,
  );
}

// 3. Planning cost per resource: a 7-node plan against a 2-node plan on existing state.
{
  const small = world();
  const big = world();
  const smallState = new MemoryStateStore();
  const bigState = new MemoryStateStore();
  await up(config(2), { ...small, state: smallState });
  await up(config(7), { ...big, state: bigState });
  const a = await time(30, () => plan(config(2), { ...small, state: smallState }));
  const b = await time(30, () => plan(config(7), { ...big, state: bigState }));
  record(
    "plan 7 nodes / plan 2 nodes",
    `${(b / a).toFixed(2)}x`,
    `${b.toFixed(2)} ms vs ${a.toFixed(2)} ms (resources 12 vs 7)`,
  );
}

// 4. Durability cost: `up` with the journaled, fsynced, encrypted file store against the memory store.
{
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-bench-"));
  let n = 0;
  const memory = await time(7, () => up(config(3), { ...world(), state: new MemoryStateStore() }));
  const file = await time(7, () =>
    up(config(3), {
      ...world(),
      state: new FileStateStore({
        path: join(dir, `s${n++}.json`),
        keySource: passphraseKeySource(new Secret("bench-passphrase")),
      }),
    }),
  );
  rmSync(dir, { recursive: true, force: true });
  record(
    "up (3 nodes): file store / memory store",
    `${(file / memory).toFixed(2)}x`,
    `${file.toFixed(1)} ms vs ${memory.toFixed(1)} ms (every call journaled and fsynced)`,
  );
}

// 5. Memory: heap growth over 50 plan+up cycles on one cluster (leaks show up as growth).
{
  const w = world();
  const state = new MemoryStateStore();
  await up(config(3), { ...w, state });
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 50; i++) {
    await plan(config(3), { ...w, state });
    await up(config(3), { ...w, state });
  }
  global.gc?.();
  const after = process.memoryUsage().heapUsed;
  record(
    "heap after 50 plan+up / before",
    `${(after / before).toFixed(2)}x`,
    `${(before / 1e6).toFixed(1)} MB → ${(after / 1e6).toFixed(1)} MB`,
  );
}

// 6. Scheduling: `up` and `destroy` on the emulator against the longest chain of its durations, at 2 and 7
// servers. Time scale 0.02 (the datastore's 9 minutes take 11 s): small enough to be quick, large enough that
// the process's own work is noise. A first run warms the SDK clients up and is not counted.
{
  const scale = 0.02;
  await measureCriticalPath(2, scale);
  for (const n of [2, 7]) {
    const r = await measureCriticalPath(n, scale);
    record(
      `up critical-path ratio (${n} nodes)`,
      `${r.up.ratio.toFixed(3)}x`,
      `${r.up.seconds.toFixed(0)} s vs ${r.up.bound} s emulated, ${r.up.calls} calls`,
    );
    record(
      `destroy critical-path ratio (${n} nodes)`,
      `${r.destroy.ratio.toFixed(3)}x`,
      `${r.destroy.seconds.toFixed(0)} s vs ${r.destroy.bound} s emulated, ${r.destroy.calls} calls`,
    );
  }
}

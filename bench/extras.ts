// Orchestrator micro-benchmarks on the in-memory cloud: ratios against a baseline measured in the same run.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ClusterConfigInput,
  FileStateStore,
  MemoryStateStore,
  ProviderRegistry,
  passphraseKeySource,
  plan,
  Secret,
  up,
} from "@k3sinfra/core";
import { createMemoryProvider, MemoryCloud } from "@k3sinfra/core/testing";
import { repoNode } from "./cold-start.js";
import { time } from "./stats.js";

/** One ratio with the two measurements behind it. */
export interface Extra {
  readonly ratio: number;
  readonly value: number;
  readonly baseline: number;
  readonly unit: string;
}

const root = join(import.meta.dirname, "..");
const config = (count: number): ClusterConfigInput => ({
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
const extra = (value: number, baseline: number, unit: string): Extra => ({
  ratio: value / baseline,
  value,
  baseline,
  unit,
});

/** Importing built core against importing only its runtime dependencies: what core itself adds. */
export async function importCore(): Promise<Extra> {
  const cwd = join(root, "packages/core");
  const node = (code: string) =>
    execFileSync(repoNode(), ["--input-type=module", "-e", code], { cwd, stdio: "pipe" });
  const deps = await time(9, () =>
    node(
      "await import('reflect-metadata'); await import('tsyringe'); await import('zod'); await import('yaml')",
    ),
  );
  const core = await time(9, () => node("await import('@k3sinfra/core')"));
  return extra(core, deps, "ms");
}

/** Planning cost per resource: a 7-node plan against a 2-node plan on existing state. */
export async function planScaling(): Promise<Extra> {
  const small = { ...world(), state: new MemoryStateStore() };
  const big = { ...world(), state: new MemoryStateStore() };
  await up(config(2), small);
  await up(config(7), big);
  const a = await time(30, () => plan(config(2), small));
  const b = await time(30, () => plan(config(7), big));
  return extra(b, a, "ms");
}

/** Durability: `up` with the journaled, fsynced, encrypted file store against the memory store. */
export async function durability(): Promise<Extra> {
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-bench-"));
  try {
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
    return extra(file, memory, "ms");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Heap after 50 plan+up cycles on one cluster against before (leaks show up as growth). */
export async function heapGrowth(): Promise<Extra> {
  const w = { ...world(), state: new MemoryStateStore() };
  await up(config(3), w);
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 50; i++) {
    await plan(config(3), w);
    await up(config(3), w);
  }
  globalThis.gc?.();
  const after = process.memoryUsage().heapUsed;
  return extra(after / 1e6, before / 1e6, "MB");
}

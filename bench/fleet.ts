// A fleet in one process: `clusters` clusters brought up at once through the library against one emulator,
// against one cluster alone on a fresh emulator with the same settings, in emulated time. What it says: how
// much the process's own work (SDK clients, the emulator's handling and persistence, the orchestrators)
// stretches emulated time when many clusters share a process.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryStateStore, ProviderRegistry, up } from "@k3sinfra/core";
import { startEmulator } from "../packages/emulator/src/index.js";
import { aws } from "../packages/provider-aws/src/index.js";
import { benchConfig } from "./critical-path.js";
import { emulatedSpan, scaledDefaultPoll } from "./stats.js";

export interface FleetRun {
  readonly clusters: number;
  /** Emulated seconds from the first to the last call of all of them. */
  readonly seconds: number;
  readonly calls: number;
  /** Highest RSS sampled (every 100 ms) while they ran, MB. */
  readonly rssMb: number;
  /** The heap still in use once they are all up, after a full GC (with --expose-gc), MB: what is live. */
  readonly liveHeapMb: number;
}

/** `count` clusters of 2 servers up at once on one fresh emulator; persisted to a file as `--emulate` does when `persist`. */
export async function upMany(count: number, timeScale: number, persist: boolean): Promise<FleetRun> {
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-fleet-"));
  const emulator = await startEmulator({
    timeScale,
    seed: 12,
    fixtures: { aws: { hostedZones: ["example.com"] } },
    ...(persist ? { persistPath: join(dir, "emulator.json") } : {}),
    log: () => undefined,
  });
  let rss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    rss = Math.max(rss, process.memoryUsage().rss);
  }, 100);
  try {
    const registry = new ProviderRegistry().register(aws);
    const env = {
      AWS_ENDPOINT_URL: emulator.endpoints.aws!,
      AWS_ACCESS_KEY_ID: emulator.credentials.aws.accessKeyId,
      AWS_SECRET_ACCESS_KEY: emulator.credentials.aws.secretAccessKey,
    };
    const poll = scaledDefaultPoll(timeScale);
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        up(benchConfig(`fleet${i}`, 2), { registry, state: new MemoryStateStore(), env, poll }),
      ),
    );
    const log = emulator.requestLog();
    globalThis.gc?.();
    return {
      clusters: count,
      seconds: emulatedSpan(log, timeScale),
      calls: log.length,
      rssMb: rss / 1e6,
      liveHeapMb: process.memoryUsage().heapUsed / 1e6,
    };
  } finally {
    clearInterval(sampler);
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Fleet {
  /** `clusters` at once ÷ one, in emulated time. */
  readonly ratio: number;
  readonly persisted: boolean;
  readonly one: FleetRun;
  readonly many: FleetRun;
}

export async function measureFleet(clusters: number, timeScale: number, persist: boolean): Promise<Fleet> {
  const one = await upMany(1, timeScale, persist);
  const many = await upMany(clusters, timeScale, persist);
  return { ratio: many.seconds / one.seconds, persisted: persist, one, many };
}

// A fleet in one process: `clusters` clusters brought up at once through the library against one emulator,
// against one cluster alone on a fresh emulator with the same settings, in emulated time. What it says: how
// much the process's own work (SDK clients, the orchestrators) and the emulator's (handling, persistence)
// stretch emulated time when many clusters share a process. The clusters run in a child process of their own
// (bench/fleet-child.ts) on the built packages, as a tool using the library would; the emulated cloud stays
// here, as a real cloud is not in that tool's process, so the child's peak RSS is the fleet's own.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator } from "../packages/emulator/src/index.js";
import { benchConfig } from "./config.js";
import { emulatedSpan, scaledDefaultPoll } from "./stats.js";

/** What bench/fleet-child.mjs reports: its own memory. */
interface FleetChildReport {
  /** The process's high-water RSS (`maxRSS`), MB. */
  readonly maxRssMb: number;
  /** The heap still in use once every cluster is up, after a full GC, MB: what is live. */
  readonly liveHeapMb: number;
}

/** Runs fleet-child.mjs with `input` on its stdin; its report. */
const runChild = (input: unknown): Promise<FleetChildReport> =>
  new Promise((resolve, reject) => {
    // Plain Node on the built packages: none of this process's flags (tsx, the source condition).
    const child = spawn(
      process.execPath,
      [
        ...(process.env.FLEET_CHILD_FLAGS?.split(" ").filter(Boolean) ?? []),
        "--expose-gc",
        join(import.meta.dirname, "fleet-child.mjs"),
      ],
      {
        stdio: ["pipe", "pipe", "inherit"],
        env: { ...process.env, NODE_OPTIONS: "" },
      },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split("\n").at(-1)!) as FleetChildReport)
        : reject(new Error(`bench/fleet-child.mjs exited ${code}`)),
    );
    child.stdin.end(JSON.stringify(input));
  });

export interface FleetRun {
  readonly clusters: number;
  /** Emulated seconds from the first to the last call of all of them. */
  readonly seconds: number;
  readonly calls: number;
  /** The high-water RSS (`maxRSS`) of the process running the clusters, MB. */
  readonly rssMb: number;
  /** That process's heap still in use once they are all up, after a full GC (--expose-gc), MB: what is live. */
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
  try {
    const child = await runChild({
      configs: Array.from({ length: count }, (_, i) => benchConfig(`fleet${i}`, 2)),
      env: {
        AWS_ENDPOINT_URL: emulator.endpoints.aws!,
        AWS_ACCESS_KEY_ID: emulator.credentials.aws.accessKeyId,
        AWS_SECRET_ACCESS_KEY: emulator.credentials.aws.secretAccessKey,
      },
      poll: scaledDefaultPoll(timeScale),
    });
    const log = emulator.requestLog();
    return {
      clusters: count,
      seconds: emulatedSpan(log, timeScale),
      calls: log.length,
      rssMb: child.maxRssMb,
      liveHeapMb: child.liveHeapMb,
    };
  } finally {
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

// Start-up of the built CLI (packages/cli/bin/k3sinfra.js, what an installed `k3sinfra` runs) against bare
// Node (`node -e 0`), both spawned the same way: the repository's Node binary itself (not node_modules/.bin's
// shell shim), the same environment and working directory, output piped. Runs alternate between the two so
// that drift in the machine's load falls on both; medians.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { median } from "./stats.js";

const root = join(import.meta.dirname, "..");
const cli = join(root, "packages/cli/bin/k3sinfra.js");

/** The Node the repository pins (devDependency `node`), else the one running the bench. */
export const repoNode = (): string => {
  const pinned = join(root, "node_modules/node/bin/node");
  return existsSync(pinned) ? pinned : process.execPath;
};

export interface ColdStartCase {
  readonly ratio: number;
  /** Median of the command and of `node -e 0` in the runs alternating with it. */
  readonly ms: number;
  readonly bareMs: number;
}

export interface ColdStart {
  readonly runs: number;
  /** `node -e 0`: the median of every bare run. */
  readonly bareNodeMs: number;
  readonly version: ColdStartCase;
  readonly help: ColdStartCase;
  /** `plan --emulate --refresh=false` on a new cluster (no state, no emulated cloud yet). */
  readonly planNoRefresh: ColdStartCase;
  /** `plan --emulate` on a new cluster: reads the (emulated) cloud. */
  readonly plan: ColdStartCase;
}

const env = (() => {
  const e: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  // The bench itself runs under tsx with the source condition: the CLI must not.
  for (const name of ["NODE_OPTIONS", "TSX_TSCONFIG_PATH", "K3SINFRA_CWD"]) delete e[name];
  return e;
})();

const spawnMs = (node: string, args: string[], cwd: string): number => {
  const t = performance.now();
  const r = spawnSync(node, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  const ms = performance.now() - t;
  if (r.status !== 0) {
    throw new Error(`\`node ${args.join(" ")}\` exited ${r.status}: ${r.stderr.toString().slice(0, 2000)}`);
  }
  return ms;
};

/**
 * Median wall time of `args` against `node -e 0`, `runs` of each, alternating, after one unmeasured run of each
 * (Node's compile cache fills on the first). `before` runs outside the timing before every CLI run.
 */
const all: number[] = [];
const against = (node: string, args: string[], cwd: string, runs: number, before = () => {}) => {
  const bare: number[] = [];
  const cmd: number[] = [];
  spawnMs(node, ["-e", "0"], cwd);
  before();
  spawnMs(node, [cli, ...args], cwd);
  for (let i = 0; i < runs; i++) {
    bare.push(spawnMs(node, ["-e", "0"], cwd));
    all.push(bare.at(-1)!);
    before();
    cmd.push(spawnMs(node, [cli, ...args], cwd));
  }
  return { bare: median(bare), ms: median(cmd) };
};

export function measureColdStart(runs: number): ColdStart {
  const node = repoNode();
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-cold-"));
  try {
    spawnMs(node, [cli, "init", "--provider", "aws"], dir);
    // A new cluster every time: no state, no emulated cloud left from the run before.
    const fresh = () => rmSync(join(dir, ".k3sinfra"), { recursive: true, force: true });
    const version = against(node, ["--version"], dir, runs);
    const help = against(node, ["--help"], dir, runs);
    const planNoRefresh = against(node, ["plan", "--emulate", "--refresh=false"], dir, runs, fresh);
    const plan = against(node, ["plan", "--emulate"], dir, runs, fresh);
    const ratio = (c: { bare: number; ms: number }): ColdStartCase => ({
      ratio: c.ms / c.bare,
      ms: c.ms,
      bareMs: c.bare,
    });
    return {
      runs,
      bareNodeMs: median(all),
      version: ratio(version),
      help: ratio(help),
      planNoRefresh: ratio(planNoRefresh),
      plan: ratio(plan),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

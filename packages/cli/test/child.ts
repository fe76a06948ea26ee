import { type ChildProcess, spawn } from "node:child_process";
import { copyFile, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type InventoryItem, startEmulator } from "@k3sinfra/emulator";
import { tempDir } from "./helpers.js";

const root = resolve(fileURLToPath(import.meta.url), "../../../..");

/** A `k3sinfra` process started from source, as a user's shell would run it. */
export interface CliChild {
  readonly child: ChildProcess & { readonly pid: number };
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** The exit code, or the signal that killed it. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once stderr matches `pattern` (progress is written there); rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<void>;
}

/** Spawns `k3sinfra <args>` through tsx from the sources. */
export const spawnCli = (args: readonly string[]): CliChild => {
  const child = spawn(
    process.execPath,
    ["--conditions=@k3sinfra/source", "--import", "tsx", join(root, "packages/cli/src/bin.ts"), ...args],
    {
      cwd: root,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(root, "tsconfig.base.json") },
      stdio: "pipe",
    },
  ) as ChildProcess & { pid: number };
  let out = "";
  let err = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on("exit", (code, signal) => done({ code, signal })),
  );
  const waitFor = (pattern: RegExp): Promise<void> =>
    new Promise((done, fail) => {
      const check = () => {
        if (!pattern.test(err)) return;
        child.stderr?.off("data", check);
        done();
      };
      child.stderr?.on("data", check);
      void exit.then(({ code, signal }) =>
        fail(new Error(`exited (${code ?? signal}) before ${pattern}:\n${err}`)),
      );
      check();
    });
  return { child, stdout: () => out, stderr: () => err, exit, waitFor };
};

/** A temp directory with examples/aws.yaml as its config; the emulated cloud and state land beside it. */
export const awsExample = async (): Promise<{ dir: string; config: string; emulatorDir: string }> => {
  const dir = await tempDir();
  const config = join(dir, "k3sinfra.yaml");
  await copyFile(join(root, "examples/aws.yaml"), config);
  // examples/aws.yaml names the cluster `rancher-aws`.
  return { dir, config, emulatorDir: join(dir, ".k3sinfra", "emulator") };
};

/** The emulated cloud kept in `emulatorDir` for `cluster`, as the next command would find it. */
export const inventoryOf = async (emulatorDir: string, cluster = "rancher-aws"): Promise<InventoryItem[]> => {
  const emulator = await startEmulator({
    persistPath: join(emulatorDir, `${cluster}.json`),
    timeScale: 0.005,
    log: () => undefined,
  });
  try {
    return emulator.inventory();
  } finally {
    await emulator.stop();
  }
};

/** The emulated run's state file, parsed (the part of it that is not encrypted). */
export const stateOf = async (
  emulatorDir: string,
  cluster = "rancher-aws",
): Promise<{ resources: Record<string, unknown>; journal: unknown[] }> =>
  JSON.parse(await readFile(join(emulatorDir, `${cluster}.state.json`), "utf8")) as {
    resources: Record<string, unknown>;
    journal: unknown[];
  };

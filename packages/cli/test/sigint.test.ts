import { type ChildProcess, spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { onInterrupt } from "../src/signals.js";
import { runCli, tempDir } from "./helpers.js";

const root = resolve(fileURLToPath(import.meta.url), "../../../..");

/** Starts `k3sinfra up --emulate` in a child process, slow enough that the datastore is still creating. */
const startUp = async (): Promise<{
  dir: string;
  config: string;
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}> => {
  const dir = await tempDir();
  const config = join(dir, "k3sinfra.yaml");
  await writeFile(
    config,
    "name: sig\nprovider: aws\nregion: us-east-1\ndns:\n  zone: example.com\nrancher:\n  hostname: rancher.example.com\n",
  );
  const child = spawn(
    process.execPath,
    ["--conditions=@k3sinfra/source", "--import", "tsx", join(root, "packages/cli/src/bin.ts")].concat([
      "--config",
      config,
      "up",
      "--emulate",
      "--yes",
      "--time-scale",
      "0.2",
    ]),
    {
      cwd: root,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(root, "tsconfig.base.json") },
      stdio: "pipe",
    },
  );
  let err = "";
  child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
  const exit = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  return { dir, config, child, stderr: () => err, exit };
};

/** Resolves once stderr shows the datastore being created (the run is in the middle of `up`). */
const datastoreStarted = (child: ChildProcess, stderr: () => string): Promise<void> =>
  new Promise((done, fail) => {
    const check = () => {
      if (/datastore create (start|progress)/.test(stderr())) {
        child.stderr?.off("data", check);
        done();
      }
    };
    child.stderr?.on("data", check);
    child.on("exit", () => fail(new Error(`exited before the datastore started:\n${stderr()}`)));
  });

describe("Ctrl-C", () => {
  it("the first SIGINT aborts through the signal and exits 130 with state kept", async () => {
    const { dir, config, child, stderr, exit } = await startUp();
    await datastoreStarted(child, stderr);
    child.kill("SIGINT");
    expect(await exit).toBe(130);
    expect(stderr()).toContain("Stopping after the calls in flight");
    expect(stderr()).toContain("Interrupted.");
    // The network finished before the datastore started, so state kept it; the datastore is not recorded.
    const state = JSON.parse(await readFile(join(dir, ".k3sinfra/emulator/sig.state.json"), "utf8")) as {
      resources: Record<string, unknown>;
    };
    expect(Object.keys(state.resources)).toContain("network");
    expect(Object.keys(state.resources)).not.toContain("datastore");
    // Running again resumes and finishes.
    const again = await runCli(["--config", config, "up", "--emulate", "--yes", "--time-scale", "0.005"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/\+\s+network\s+create/);
  }, 60_000);

  it("a second SIGINT exits at once with 130", () => {
    const controller = new AbortController();
    const exits: number[] = [];
    const handler = onInterrupt(controller, { exit: (c) => exits.push(c) });
    handler();
    expect(controller.signal.aborted).toBe(true);
    expect(exits).toEqual([]);
    handler();
    expect(exits).toEqual([130]);
  });
});

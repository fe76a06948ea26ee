import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { onInterrupt, StopRequested } from "../src/signals.js";
import { awsExample, spawnCli, stateOf } from "./child.js";
import { runCli, tempDir, writeMemoryConfig } from "./helpers.js";

describe("SIGTERM and SIGHUP stop a run like Ctrl-C", () => {
  it.each([
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const)(
    "%s during up: stops starting work, keeps what finished, releases the lock and exits %i",
    async (signal, exitCode) => {
      const { config, emulatorDir } = await awsExample();
      const args = ["--config", config, "--emulate", "--yes"];
      // Slow enough that the datastore is still being created when the signal arrives.
      const run = spawnCli([...args, "up", "--time-scale", "0.2"]);
      await run.waitFor(/datastore create (start|progress)/);
      run.child.kill(signal);
      expect((await run.exit).code, run.stderr()).toBe(exitCode);
      expect(run.stderr()).toContain(`Received ${signal}: stopping after the calls in flight`);
      expect(run.stderr()).toContain(`Stopped by ${signal}. State keeps every resource that finished`);
      // The lock is released, and state holds the network that finished before the datastore started.
      expect(existsSync(join(emulatorDir, "rancher-aws.state.json.lock"))).toBe(false);
      const state = await stateOf(emulatorDir);
      expect(Object.keys(state.resources)).toContain("network");
      expect(Object.keys(state.resources)).not.toContain("datastore");

      // The next up is not refused (exit 3): it resumes and finishes.
      const again = await runCli([...args, "--time-scale", "0.005", "up"]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).not.toMatch(/\+\s+network\s+create/);
    },
    120_000,
  );

  it("the exit code and the --json error name the signal that interrupted the run", async () => {
    const config = await writeMemoryConfig(await tempDir());
    for (const [signal, exitCode] of [
      ["SIGTERM", 143],
      ["SIGHUP", 129],
      ["SIGINT", 130],
    ] as const) {
      const controller = new AbortController();
      controller.abort(new StopRequested(signal));
      const run = await runCli(["--config", config, "up", "--yes", "--json"], { signal: controller.signal });
      expect(run.code, run.stderr).toBe(exitCode);
      expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: "Aborted", exitCode } });
    }
  });

  it("a second signal, of any of the three, exits at once with its own code", () => {
    for (const [first, second, code] of [
      ["SIGTERM", "SIGTERM", 143],
      ["SIGHUP", "SIGHUP", 129],
      ["SIGTERM", "SIGINT", 130],
      ["SIGINT", "SIGHUP", 129],
    ] as const) {
      const controller = new AbortController();
      const exits: number[] = [];
      const handler = onInterrupt(controller, { exit: (c) => exits.push(c) });
      handler(first);
      expect(controller.signal.reason).toEqual(new StopRequested(first));
      expect((controller.signal.reason as StopRequested).signal).toBe(first);
      expect(exits).toEqual([]);
      handler(second);
      expect(exits).toEqual([code]);
    }
  });
});

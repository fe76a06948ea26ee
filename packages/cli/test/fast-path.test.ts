import { describe, expect, it } from "vitest";
import { fastVersion, version } from "../src/version.js";
import { runCli } from "./helpers.js";

describe("the --version fast path (answered before commander loads)", () => {
  it("prints exactly what commander prints for --version and -V", async () => {
    for (const flag of ["--version", "-V"]) {
      const viaCommander = await runCli([flag]);
      expect(viaCommander.code).toBe(0);
      expect(fastVersion([flag])).toBe(viaCommander.stdout);
    }
    expect(version()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("leaves every other command line to commander", () => {
    for (const args of [
      [],
      ["--json", "--version"],
      ["up", "--version"],
      ["--version", "up"],
      ["-v"],
      ["--help"],
    ]) {
      expect(fastVersion(args)).toBeUndefined();
    }
  });
});

describe("help exits 0 however it is asked for; a missing command is a usage error", () => {
  it("--help, -h, <command> --help and help <command>", async () => {
    for (const args of [["--help"], ["-h"], ["up", "--help"], ["help"], ["help", "destroy"]]) {
      const run = await runCli(args);
      expect(run.code, args.join(" ")).toBe(0);
      expect(run.stdout, args.join(" ")).toContain("Usage: k3sinfra");
    }
  });

  it("k3sinfra alone shows the help on stderr and exits 2", async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Usage: k3sinfra");
  });
});

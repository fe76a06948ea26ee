import { describe, expect, it } from "vitest";
import { helpRequest, pickHelp } from "../src/help-fast.js";
import type { CliIo } from "../src/io.js";
import { main } from "../src/main.js";
import { fastVersion, version } from "../src/version.js";
import { helpTexts } from "../src/write-help-snapshot.js";
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

describe("the --help fast path (the build's snapshot of commander's help)", () => {
  /** What commander prints for `args` when stdout is `columns` wide (undefined: not a terminal). */
  const viaCommander = async (args: string[], columns: number | undefined): Promise<string> => {
    let out = "";
    const io: CliIo = {
      stdout: { write: (s: string) => (out += s), ...(columns === undefined ? {} : { columns }) },
      stderr: { write: () => true },
      env: {},
      isTTY: false,
    };
    expect(await main(["node", "k3sinfra", ...args], io)).toBe(0);
    return out;
  };

  it("prints exactly what commander prints, for every command, every way of asking, at any width it answers", async () => {
    const texts = helpTexts();
    const names = Object.keys(texts);
    expect(names).toEqual(expect.arrayContaining(["", "init", "plan", "up", "destroy", "schema"]));
    let answered = 0;
    for (const name of names) {
      const asks = name
        ? [
            [name, "--help"],
            [name, "-h"],
            ["help", name],
          ]
        : [["--help"], ["-h"], ["help"]];
      for (const args of asks) {
        for (const columns of [
          undefined,
          40,
          60,
          79,
          80,
          81,
          99,
          100,
          101,
          120,
          126,
          127,
          134,
          160,
          205,
          300,
        ]) {
          const fast = pickHelp(texts, args, columns);
          if (fast === undefined) continue;
          answered++;
          expect(fast, `${args.join(" ")} at ${columns}`).toBe(await viaCommander(args, columns));
        }
      }
    }
    // It answers most asks: the unwrapped text on wide terminals, the wrapped ones at HELP_WIDTHS and in pipes.
    expect(answered).toBeGreaterThan(names.length * 3 * 8);
  });

  it("leaves other command lines to commander", () => {
    const texts = helpTexts();
    for (const args of [
      [],
      ["--json", "--help"],
      ["help", "nope"],
      ["nope", "--help"],
      ["up", "--help", "x"],
      ["up"],
    ]) {
      expect(pickHelp(texts, args, 100), args.join(" ")).toBeUndefined();
    }
    expect(helpRequest(["up", "--parallelism", "--help"])).toBeUndefined();
  });
});

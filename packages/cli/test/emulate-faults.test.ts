import { copyFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import {
  describeFaults,
  faultFlagWithoutEmulate,
  faultSpecs,
  parseFail,
  parseLatency,
  parseRate,
  parseSeed,
  summarizeFaults,
} from "../src/emulate-faults.js";
import { runCli, tempDir } from "./helpers.js";

const example = resolve(fileURLToPath(import.meta.url), "../../../../examples/aws.yaml");

/** A directory holding examples/aws.yaml as k3sinfra.yaml; returns the config path. */
const awsConfig = async (): Promise<string> => {
  const config = join(await tempDir(), "k3sinfra.yaml");
  await copyFile(example, config);
  return config;
};

describe("fault flags: parsing", () => {
  it("seed, rates, latency and named operations", () => {
    expect(parseSeed("7")).toBe(7);
    expect(parseSeed("0")).toBe(0);
    expect(parseRate("0.2")).toBe(0.2);
    expect(parseRate("0")).toBe(0);
    expect(parseRate("1")).toBe(1);
    expect(parseLatency("250")).toEqual({ ms: 250, rate: 1 });
    expect(parseLatency("1000:0.1")).toEqual({ ms: 1000, rate: 0.1 });
    const one = parseFail("ec2:RunInstances");
    expect(one).toEqual([{ service: "ec2", operation: "RunInstances", kind: "error500" }]);
    expect(parseFail("rds:CreateDBInstance=unavailable503", one)).toEqual([
      ...one,
      { service: "rds", operation: "CreateDBInstance", kind: "unavailable503" },
    ]);
  });

  it("refuses bad values with a reason (commander names the flag)", () => {
    for (const bad of ["-1", "1.5", "x", ""]) expect(() => parseSeed(bad)).toThrow(InvalidArgumentError);
    for (const bad of ["-0.1", "1.01", "ten", ""]) expect(() => parseRate(bad)).toThrow(InvalidArgumentError);
    for (const bad of ["fast", "-5", "100:2", "100:", "1e3"])
      expect(() => parseLatency(bad)).toThrow(InvalidArgumentError);
    expect(() => parseFail("RunInstances")).toThrow(/<service>:<Operation>/);
    expect(() => parseFail("ec3:RunInstances")).toThrow(/Unknown service 'ec3'; one of ec2, elbv2/);
    expect(() => parseFail("ec2:RunInstances=boom")).toThrow(/Unknown fault 'boom'; one of error500/);
  });

  it("turns the flags into the emulator's faults, named operations first, 5xx split evenly", () => {
    const flags = {
      emulateThrottle: 0.2,
      emulate5xx: 0.1,
      emulateLatency: { ms: 300, rate: 0.5 },
      emulateFail: [{ service: "ec2", operation: "RunInstances", kind: "error500" as const }],
    };
    const specs = faultSpecs(flags);
    expect(specs.map((s) => s.kind)).toEqual(["error500", "throttle", "error500", "unavailable503", "slow"]);
    expect(specs[0]).toEqual({ service: "ec2", operation: "RunInstances", kind: "error500" });
    expect(specs[1]).toEqual({ kind: "throttle", rate: 0.2 });
    // 500 at r/2; 503 at r/2 of the calls the 500 left: r in all.
    const [p500, p503] = [specs[2]?.rate ?? 0, specs[3]?.rate ?? 0];
    expect(p500).toBeCloseTo(0.05);
    expect(p500 + (1 - p500) * p503).toBeCloseTo(0.1);
    expect(specs[4]).toEqual({ kind: "slow", rate: 0.5, delayMs: 300 });
    // Zero rates are no faults.
    expect(faultSpecs({ emulateThrottle: 0, emulate5xx: 0, emulateLatency: { ms: 0, rate: 1 } })).toEqual([]);
    expect(faultSpecs({ emulate5xx: 1 }).map((s) => s.rate)).toEqual([0.5, 1]);

    expect(describeFaults(flags, 7)).toBe(
      "Injected faults (seed 7): every ec2:RunInstances → error500, 20% of calls throttled, 10% answered 500/503, 50% of calls 300 ms slower.",
    );
    expect(describeFaults({ emulateSeed: 7 }, 7)).toBeUndefined();
  });

  it("counts the injected faults at the end, and names an operation no call reached", () => {
    const log = [
      { cloud: "aws", service: "ec2", operation: "RunInstances", status: 500, fault: "error500", at: 0 },
      { cloud: "aws", service: "ec2", operation: "DescribeVpcs", status: 503, fault: "throttle", at: 0 },
      { cloud: "aws", service: "ec2", operation: "DescribeVpcs", status: 200, at: 0 },
    ];
    expect(
      summarizeFaults(
        {
          emulateThrottle: 0.5,
          emulateFail: [
            { service: "ec2", operation: "RunInstances", kind: "error500" },
            { service: "elasticloadbalancing", operation: "CreateLoadBalancr", kind: "error500" },
          ],
        },
        log,
      ),
    ).toBe(
      "Emulator: 2 of 3 calls got an injected fault (error500 1, throttle 1). No call reached elasticloadbalancing:CreateLoadBalancr.",
    );
    expect(summarizeFaults({}, log)).toBeUndefined();
  });

  it("knows which flag was given without --emulate", () => {
    expect(faultFlagWithoutEmulate({ emulate5xx: 0.1 })).toBe("--emulate-5xx");
    expect(faultFlagWithoutEmulate({ emulate: true, emulate5xx: 0.1 })).toBeUndefined();
    expect(faultFlagWithoutEmulate({})).toBeUndefined();
  });
});

describe("fault flags on the command line", () => {
  it("without --emulate: a usage error (exit 2) naming the flag, before anything runs", async () => {
    const config = await awsConfig();
    for (const [flag, value] of [
      ["--emulate-seed", "7"],
      ["--emulate-throttle", "0.2"],
      ["--emulate-5xx", "0.1"],
      ["--emulate-latency", "100"],
      ["--emulate-fail", "ec2:RunInstances"],
    ] as const) {
      const run = await runCli(["--config", config, flag, value, "plan"]);
      expect(run.code, flag).toBe(2);
      expect(run.stderr, flag).toContain(`${flag} only applies to the emulated cloud: add --emulate`);
      expect(run.stderr, flag).not.toMatch(/EMULATED|Plan/);
      // After the command too (they are global options).
      const after = await runCli(["--config", config, "status", flag, value]);
      expect(after.code, flag).toBe(2);
      expect(after.stderr, flag).toContain(`${flag} only applies`);
    }
  });

  it("bad values: a usage error (exit 2) naming the flag and the value", async () => {
    const config = await awsConfig();
    for (const [flag, value, reason] of [
      ["--emulate-seed", "-3", "non-negative integer"],
      ["--emulate-throttle", "1.5", "from 0 to 1"],
      ["--emulate-5xx", "lots", "from 0 to 1"],
      ["--emulate-latency", "slow", "<ms>[:<rate>]"],
      ["--emulate-fail", "ec2-RunInstances", "<service>:<Operation>"],
      ["--emulate-fail", "ec2:RunInstances=500", "Unknown fault '500'"],
    ] as const) {
      const run = await runCli(["--config", config, "--emulate", flag, value, "plan"]);
      expect(run.code, `${flag} ${value}`).toBe(2);
      expect(run.stderr, `${flag} ${value}`).toContain(`option '${flag} `);
      expect(run.stderr, `${flag} ${value}`).toContain(`argument '${value}' is invalid`);
      expect(run.stderr, `${flag} ${value}`).toContain(reason);
    }
  });

  it("--help lists them", async () => {
    const help = await runCli(["up", "--help"]);
    for (const flag of [
      "--emulate-seed",
      "--emulate-throttle",
      "--emulate-5xx",
      "--emulate-latency",
      "--emulate-fail",
    ])
      expect(help.stdout).toContain(flag);
  });

  it("up with 20% of calls throttled (seed 7) retries and converges; the banner and the end of the run say so", async () => {
    const config = await awsConfig();
    const cli = (...args: string[]) =>
      runCli(["--config", config, "--emulate", "--time-scale", "0.005", ...args]);
    const up = await cli("--emulate-throttle", "0.2", "--emulate-seed", "7", "up", "--yes");
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain("Injected faults (seed 7): 20% of calls throttled.");
    expect(up.stderr).toMatch(/(RequestLimitExceeded|Throttling), retry/);
    const summary = /Emulator: (\d+) of (\d+) calls got an injected fault \(throttle (\d+)\)\./.exec(
      up.stderr,
    );
    expect(summary, up.stderr).not.toBeNull();
    const [faulted, calls, throttled] = [Number(summary?.[1]), Number(summary?.[2]), Number(summary?.[3])];
    expect(throttled).toBe(faulted);
    expect(faulted).toBeGreaterThan(0);
    expect(faulted).toBeLessThan(calls);

    // Without fault flags: no fault lines.
    const destroy = await cli("destroy", "--yes");
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(destroy.stderr).not.toMatch(/Injected faults|injected fault/);
  }, 120_000);

  it("--emulate-fail ec2:RunInstances=error500: up fails (partial, exit 4) naming the operation; a later up without it converges", async () => {
    const config = await awsConfig();
    const cli = (...args: string[]) =>
      runCli(["--config", config, "--emulate", "--time-scale", "0.005", ...args]);
    const up = await cli("--emulate-fail", "ec2:RunInstances=error500", "up", "--yes", "--no-wait");
    // The other resources complete: a partial failure, each node's launch named.
    expect(up.code, up.stderr).toBe(4);
    expect(up.stderr).toMatch(/node-0: EC2 RunInstances \(\S+\) failed: InternalError/);
    expect(up.stderr).toContain("Injected faults (seed 42): every ec2:RunInstances → error500.");
    expect(up.stderr).toMatch(/Emulator: \d+ of \d+ calls got an injected fault \(error500 \d+\)\./);
    expect(up.stderr).not.toMatch(/No call reached/);

    const again = await cli("up", "--yes", "--no-wait");
    expect(again.code, again.stderr).toBe(0);
    expect((await cli("destroy", "--yes")).code).toBe(0);
  }, 120_000);
});

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { FaultArgError, faultsFromArgs, parseFailArg, parseSeedArg } from "../src/bin-faults.js";

const root = resolve(fileURLToPath(import.meta.url), "../../../..");
const bin = join(root, "packages/emulator/src/bin.ts");
// The bin from the sources, through tsx (resolved from the repository).
const nodeArgs = ["--conditions=@k3sinfra/source", "--import", "tsx", bin];
const env = { ...process.env, TSX_TSCONFIG_PATH: join(root, "tsconfig.base.json") };

describe("k3sinfra-emulator fault options: parsing", () => {
  it("turns --fail, --throttle, --5xx and --latency into the emulator's faults", () => {
    expect(
      faultsFromArgs({
        fail: ["ec2:RunInstances", "rds:CreateDBInstance=unavailable503"],
        throttle: "0.2",
        "5xx": "0.1",
        latency: "300:0.5",
      }),
    ).toEqual([
      { service: "ec2", operation: "RunInstances", kind: "error500" },
      { service: "rds", operation: "CreateDBInstance", kind: "unavailable503" },
      { kind: "throttle", rate: 0.2 },
      { kind: "error500", rate: 0.05 },
      { kind: "unavailable503", rate: 0.05 / 0.95 },
      { kind: "slow", rate: 0.5, delayMs: 300 },
    ]);
    expect(faultsFromArgs({ latency: "250" })).toEqual([{ kind: "slow", rate: 1, delayMs: 250 }]);
    expect(faultsFromArgs({ throttle: "0", "5xx": "0", latency: "0" })).toEqual([]);
    expect(faultsFromArgs({})).toEqual([]);
    expect(parseSeedArg("7")).toBe(7);
  });

  it("refuses bad values, naming the option", () => {
    expect(() => faultsFromArgs({ throttle: "2" })).toThrow(
      /^--throttle must be a share of calls from 0 to 1/,
    );
    expect(() => faultsFromArgs({ "5xx": "x" })).toThrow(/^--5xx must be/);
    expect(() => faultsFromArgs({ latency: "slow" })).toThrow(/^--latency must be <ms>\[:<rate>\]/);
    expect(() => faultsFromArgs({ latency: "10:3" })).toThrow(/^--latency's rate must be/);
    expect(() => parseFailArg("RunInstances")).toThrow(FaultArgError);
    expect(() => parseFailArg("ec3:RunInstances")).toThrow(/unknown service "ec3"/);
    expect(() => parseFailArg("ec2:RunInstances=boom")).toThrow(/unknown fault "boom"/);
    expect(() => parseSeedArg("-1")).toThrow(/^--seed must be a non-negative integer/);
  });
});

describe("k3sinfra-emulator fault options: the bin", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill("SIGKILL");
    child = undefined;
  });

  it("--help documents them", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs, "--help"], {
      cwd: root,
      env,
    });
    for (const option of [
      "--seed <n>",
      "--throttle <rate>",
      "--5xx <rate>",
      "--latency <ms[:rate]>",
      "--fail <service:Operation[=kind]>",
    ])
      expect(stdout).toContain(option);
  });

  it("a bad value exits 2 naming the option", async () => {
    const run = promisify(execFile)(process.execPath, [...nodeArgs, "--5xx", "1.5"], { cwd: root, env });
    await expect(run).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--5xx must be") });
  });

  it("started with --fail ec2:DescribeVpcs=unavailable503, it answers that operation 503, every time", async () => {
    child = spawn(
      process.execPath,
      [...nodeArgs, "--port", "0", "--seed", "3", "--fail", "ec2:DescribeVpcs=unavailable503"],
      { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    // Everything up to the exports it prints once it listens.
    const out = await new Promise<string>((done, failed) => {
      let text = "";
      child?.stdout?.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes("AWS_EC2_METADATA_DISABLED")) done(text);
      });
      child?.on("exit", (code) => failed(new Error(`exited ${code} before listening: ${text}`)));
    });
    expect(out).toContain(
      '# injected faults (seed 3): [{"service":"ec2","operation":"DescribeVpcs","kind":"unavailable503"}]',
    );
    const url = /listening on (\S+)/.exec(out)?.[1];
    const key = /AWS_ACCESS_KEY_ID=(\S+)/.exec(out)?.[1];
    expect(url).toBeDefined();
    const call = (action: string) =>
      fetch(`${url}/`, {
        method: "POST",
        headers: {
          authorization: `AWS4-HMAC-SHA256 Credential=${key}/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: `Action=${action}&Version=2016-11-15`,
      });
    for (let i = 0; i < 2; i++) {
      const res = await call("DescribeVpcs");
      expect(res.status).toBe(503);
      expect(await res.text()).toContain("<Code>Unavailable</Code>");
    }
    // Other operations are answered.
    const subnets = await call("DescribeSubnets");
    expect(subnets.status).toBe(200);

    const exited = new Promise<number | null>((done) => child?.on("exit", (code) => done(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 30_000);
});

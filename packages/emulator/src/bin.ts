#!/usr/bin/env node
/**
 * k3sinfra-emulator: run the cloud emulator in the foreground.
 *   k3sinfra-emulator [--port 4566] [--host 127.0.0.1] [--time-scale 1] [--persist state.json]
 *                     [--hosted-zone example.com]... [--seed 1] [--cloud aws]... [--mysql mysql://user:pass@host:3306]
 *                     [--throttle 0.1] [--5xx 0.05] [--latency 250[:0.5]] [--fail ec2:RunInstances[=error500]]...
 */
import { parseArgs } from "node:util";
import { FaultArgError, faultsFromArgs, parseSeedArg } from "./bin-faults.js";
import { startEmulator } from "./emulator.js";
import type { CloudName, EmulatorOptions } from "./types.js";

const USAGE = `Usage: k3sinfra-emulator [options]
  --port <n>            port to listen on (default 4566; 0 = any free port)
  --host <addr>         address to bind (default 127.0.0.1)
  --time-scale <x>      multiply every resource transition time by x (default 1; 0.01 = 100 times faster)
  --persist <file>      load the cloud from this JSON file and save it after each change
  --hosted-zone <name>  a pre-existing Route 53 public hosted zone (repeatable)
  --seed <n>            seed for generated ids and fault injection (default random; 42 with faults)
  --cloud <name>        a cloud to serve (repeatable; default aws)
  --mysql <url>         back RDS instances with a real MariaDB: mysql://user:password@host:port

Faults (reproducible for a given --seed):
  --throttle <rate>     throttle this share of calls, 0-1 (each API's own throttling error)
  --5xx <rate>          answer this share of calls 500 or 503, 0-1 (half each)
  --latency <ms[:rate]> delay calls by ms real milliseconds: every call, or this share of them
  --fail <service:Operation[=kind]>
                        every call of that operation fails (repeatable), e.g. ec2:RunInstances or
                        rds:CreateDBInstance=unavailable503; kind: error500 (default), unavailable503,
                        throttle, slow
  -h, --help            show this help`;

function fail(message: string): never {
  process.stderr.write(`k3sinfra-emulator: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) fail(`--${name} must be a number, got "${v}"`);
  return n;
}

async function main(): Promise<void> {
  let values: ReturnType<typeof parse>["values"];
  const parse = () =>
    parseArgs({
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "time-scale": { type: "string" },
        persist: { type: "string" },
        "hosted-zone": { type: "string", multiple: true },
        seed: { type: "string" },
        cloud: { type: "string", multiple: true },
        mysql: { type: "string" },
        throttle: { type: "string" },
        "5xx": { type: "string" },
        latency: { type: "string" },
        fail: { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
  try {
    values = parse().values;
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const opts: EmulatorOptions = {
    port: num("port", values.port) ?? 4566,
    host: values.host ?? "127.0.0.1",
    timeScale: num("time-scale", values["time-scale"]) ?? 1,
    log: (line) => process.stderr.write(`[k3sinfra-emulator] ${line}\n`),
  };
  try {
    const faults = faultsFromArgs(values);
    if (faults.length > 0) opts.faults = faults;
    const seed = values.seed === undefined ? undefined : parseSeedArg(values.seed);
    if (seed !== undefined || faults.length > 0) opts.seed = seed ?? 42;
  } catch (err) {
    if (err instanceof FaultArgError) fail(err.message);
    throw err;
  }
  if (values.persist) opts.persistPath = values.persist;
  if (values["hosted-zone"]?.length) opts.fixtures = { aws: { hostedZones: values["hosted-zone"] } };
  if (values.cloud?.length) opts.clouds = values.cloud as CloudName[];
  if (values.mysql) {
    const u = new URL(values.mysql);
    if (u.protocol !== "mysql:") fail("--mysql must be a mysql://user:password@host:port URL");
    opts.mysql = {
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
    };
  }

  const emu = await startEmulator(opts);
  const lines = [
    `k3sinfra emulator listening on ${emu.url}`,
    ...(opts.faults ? [`# injected faults (seed ${opts.seed}): ${JSON.stringify(opts.faults)}`] : []),
    "",
    "# export these to point the AWS SDK/CLI at it:",
  ];
  if (emu.endpoints.aws) {
    lines.push(
      `export AWS_ENDPOINT_URL=${emu.endpoints.aws}`,
      `export AWS_ACCESS_KEY_ID=${emu.credentials.aws.accessKeyId}`,
      `export AWS_SECRET_ACCESS_KEY=${emu.credentials.aws.secretAccessKey}`,
      "export AWS_REGION=us-east-1",
      "export AWS_EC2_METADATA_DISABLED=true",
    );
  }
  if (emu.endpoints.cloudflare) lines.push(`export CLOUDFLARE_BASE_URL=${emu.endpoints.cloudflare}`);
  process.stdout.write(`${lines.join("\n")}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[k3sinfra-emulator] ${signal}: stopping\n`);
    emu.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((err: unknown) => {
  process.stderr.write(`k3sinfra-emulator: ${(err as Error).message}\n`);
  process.exit(1);
});

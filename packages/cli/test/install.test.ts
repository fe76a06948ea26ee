// Installs k3sinfra as a user would, outside the repository: every package packed with `pnpm pack` (as it would
// be published), the tarballs installed with plain npm into an empty prefix, then the installed `k3sinfra` and
// `k3sinfra-emulator` run from an empty directory under the repository's Node 24. The slowest test file: packing
// and `npm install` take 15-40 s (npm's cache makes later runs the faster end), once for every test here.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, realpathSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "./helpers.js";

const root = resolve(fileURLToPath(import.meta.url), "../../../..");
const hook = join(root, "packages/cli/test/fixtures/record-modules.mjs");
// Every package of the workspace is published, so every one must pack and install (a new provider too).
const PACKAGES = readdirSync(join(root, "packages")).filter((p) =>
  existsSync(join(root, "packages", p, "package.json")),
);

/**
 * The environment of a process outside the repository: pnpm's and npm's own variables (npm_config_*, the
 * NODE_PATH of the `node` shim) and this suite's are dropped, so the install resolves only what it holds; the
 * repository's Node 24 comes first on PATH, so the bins' `#!/usr/bin/env node` starts it.
 */
const outsideEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|NODE_PATH$|NODE_OPTIONS$|INIT_CWD$|K3SINFRA_|VITEST|TSX_)/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = [dirname(process.execPath), ...(process.env.PATH ?? "").split(delimiter)].join(delimiter);
  return { ...env, ...extra };
};

/** Runs a command with a program found here: a JS entry under this Node, anything else directly. */
const run = async (
  command: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string }> => {
  const [file, ...args] = command as [string, ...string[]];
  const viaNode = /\.(c|m)?js$/.test(file);
  return promisify(execFile)(viaNode ? process.execPath : file, viaNode ? [file, ...args] : args, {
    cwd,
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
};

/** npm, as the machine has it (its JS entry, run under Node 24, so no engine warning comes from Node 20). */
const npmCommand = (): string[] => {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, "npm");
    if (!dir || dir.includes("node_modules") || !existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    return [real.endsWith(".js") ? real : candidate];
  }
  throw new Error("npm is not on PATH: the install test installs the packed tarballs with npm");
};

/** pnpm: the one running this suite (`pnpm test`), else pnpm 10 through npx, as the README runs it. */
const pnpmCommand = (): string[] => {
  const current = process.env.npm_execpath;
  if (current && /pnpm/.test(current)) return [current];
  return ["npx", "-y", "pnpm@10"];
};

let work: string;
let prefix: string;
let tarballs: string[];
let bin: (name: string) => string;

beforeAll(async () => {
  work = await tempDir();
  const packs = join(work, "tarballs");
  prefix = join(work, "prefix");
  await mkdir(prefix);
  // Packed as published: each package's `prepack` builds it (tsc -b, incremental), one package at a time.
  await run(
    [...pnpmCommand(), "-r", "--workspace-concurrency=1", "pack", "--pack-destination", packs],
    root,
    { ...process.env, NODE_OPTIONS: "" },
  );
  tarballs = (await readdir(packs)).filter((f) => f.endsWith(".tgz")).map((f) => join(packs, f));
  // Third-party packages come from the registry through npm's own cache (prefer-offline: no revalidation).
  await run(
    [
      ...npmCommand(),
      "install",
      "--prefix",
      prefix,
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      ...tarballs,
    ],
    work,
    outsideEnv({ npm_config_update_notifier: "false" }),
  );
  bin = (name) => join(prefix, "node_modules", ".bin", name);
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("packed and installed with npm, outside the repository", () => {
  it("every package packs built JS, types and an exports map that points at files in the tarball", async () => {
    expect(tarballs.map((t) => t.replace(/.*\//, "")).sort()).toEqual(
      PACKAGES.map((p) => `k3sinfra-${p}-0.1.0.tgz`).sort(),
    );
    for (const name of PACKAGES) {
      const dir = join(prefix, "node_modules", "@k3sinfra", name);
      const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
        exports: Record<string, Record<string, string>>;
        bin?: Record<string, string>;
        dependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
        engines: { node: string };
      };
      expect(manifest.engines.node, name).toBe(">=22.12");
      expect(existsSync(join(dir, "src")), `${name} ships no sources`).toBe(false);
      expect(existsSync(join(dir, "dist", ".tsbuildinfo")), `${name} ships no build info`).toBe(false);
      for (const [entry, conditions] of Object.entries(manifest.exports)) {
        expect(Object.keys(conditions), `${name} ${entry}`).toEqual(["types", "default"]);
        for (const target of Object.values(conditions)) {
          expect(existsSync(join(dir, target)), `${name} ${entry} → ${target}`).toBe(true);
        }
      }
      for (const target of Object.values(manifest.bin ?? {}))
        expect(existsSync(join(dir, target))).toBe(true);
      // workspace: ranges became versions.
      const ranges = { ...manifest.dependencies, ...manifest.peerDependencies };
      expect(
        Object.values(ranges).filter((r) => r.startsWith("workspace:")),
        name,
      ).toEqual([]);
    }
    const cli = JSON.parse(await readFile(join(prefix, "node_modules/@k3sinfra/cli/package.json"), "utf8"));
    expect(Object.keys(cli.dependencies)).toEqual(
      expect.arrayContaining([
        "@k3sinfra/core",
        "@k3sinfra/provider-aws",
        "@k3sinfra/provider-cloudflare",
        "@k3sinfra/emulator",
      ]),
    );
  });

  it("the library entry points import from the install", async () => {
    const script = [
      "const core = await import('@k3sinfra/core');",
      "const testing = await import('@k3sinfra/core/testing');",
      "const cli = await import('@k3sinfra/cli');",
      "const emu = await import('@k3sinfra/emulator');",
      "console.log([typeof core.up, typeof testing.runProviderContract, typeof cli.main, typeof emu.startEmulator].join(' '));",
    ].join("\n");
    const { stdout } = await run(
      [process.execPath, "--input-type=module", "-e", script],
      prefix,
      outsideEnv(),
    );
    expect(stdout.trim()).toBe("function function function function");
  });

  it("k3sinfra --version, init, up --emulate and destroy run from an empty directory", async () => {
    const dir = join(work, "cluster");
    await mkdir(dir);
    const record = join(work, "up-modules.json");
    const env = outsideEnv({
      HOME: work,
      XDG_CONFIG_HOME: join(work, ".config"),
      K3SINFRA_STATE_PASSPHRASE: "install-test",
    });

    const version = await run([bin("k3sinfra"), "--version"], dir, env);
    expect(version.stdout).toBe("0.1.0\n");

    // Help from the packed snapshot: what commander prints (asked through it with --json), without commander.
    for (const ask of [["--help"], ["up", "--help"]]) {
      const helpRecord = join(work, "help-modules.json");
      const fast = await run([bin("k3sinfra"), ...ask], dir, {
        ...env,
        NODE_OPTIONS: `--import=${hook}`,
        K3SINFRA_RECORD_MODULES: helpRecord,
      });
      const viaCommander = await run([bin("k3sinfra"), "--json", ...ask], dir, env);
      expect(fast.stdout).toBe(viaCommander.stdout);
      const helpModules = JSON.parse(await readFile(helpRecord, "utf8")) as string[];
      expect(helpModules.filter((u) => /\/commander\/|\/@k3sinfra\/core\//.test(u))).toEqual([]);
    }

    await run([bin("k3sinfra"), "init", "--provider", "aws"], dir, env);
    expect(await readFile(join(dir, "k3sinfra.yaml"), "utf8")).toContain("provider: aws");

    const up = await run(
      [bin("k3sinfra"), "up", "--emulate", "--yes", "--time-scale", "0.002"],
      dir,
      // Every module the installed CLI loads is recorded (the recorder is the only file from elsewhere).
      { ...env, NODE_OPTIONS: `--import=${hook}`, K3SINFRA_RECORD_MODULES: record },
    );
    expect(up.stdout).toMatch(/Up complete: 9 created/);
    const loaded = (JSON.parse(await readFile(record, "utf8")) as string[]).filter((u) =>
      u.startsWith("file:"),
    );
    const prefixUrl = `file://${realpathSync(prefix)}/`;
    expect(loaded.filter((u) => !u.startsWith(prefixUrl))).toEqual([]);
    expect(loaded.some((u) => u.includes("/node_modules/@k3sinfra/emulator/dist/"))).toBe(true);

    const status = await run(
      [bin("k3sinfra"), "status", "--emulate", "--json", "--time-scale", "0.002"],
      dir,
      env,
    );
    const report = JSON.parse(status.stdout) as { resources: { status: string }[] };
    expect(report.resources.length).toBeGreaterThan(0);
    expect(report.resources.filter((r) => r.status !== "ok")).toEqual([]);

    const destroy = await run(
      [bin("k3sinfra"), "destroy", "--emulate", "--yes", "--allow-protected", "--time-scale", "0.002"],
      dir,
      env,
    );
    expect(destroy.stdout).toMatch(/Destroy complete/);
  });

  it("k3sinfra-emulator starts, answers the AWS API and stops on SIGTERM", async () => {
    const child: ChildProcess = spawn(bin("k3sinfra-emulator"), ["--port", "0", "--time-scale", "0.01"], {
      cwd: work,
      env: outsideEnv({ HOME: work }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let out = "";
      const url = await new Promise<string>((ok, fail) => {
        child.stdout?.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const listening = /listening on (http:\/\/\S+)/.exec(out);
          if (listening && /AWS_ACCESS_KEY_ID=\S+/.test(out)) ok(listening[1] as string);
        });
        child.once("exit", (code) =>
          fail(new Error(`k3sinfra-emulator exited (${code}) before listening: ${out}`)),
        );
      });
      const key = /AWS_ACCESS_KEY_ID=(\S+)/.exec(out)?.[1];
      // The administrator's static key (its signature is not checked), as the SDK would sign for STS.
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `AWS4-HMAC-SHA256 Credential=${key}/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00`,
        },
        body: "Action=GetCallerIdentity&Version=2011-06-15",
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("<GetCallerIdentityResult>");
      const exited = new Promise<number | null>((ok) => child.once("exit", (code) => ok(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});

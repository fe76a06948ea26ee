import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ClusterConfigSchema, readConfig } from "@k3sinfra/core";
import { describe, expect, it } from "vitest";
import { INIT_PROVIDERS } from "../src/commands/init-template.js";
import { runCli, tempDir } from "./helpers.js";

describe("init", () => {
  for (const provider of INIT_PROVIDERS) {
    it(`writes a commented ${provider} starter config that passes the schema`, async () => {
      const dir = await tempDir();
      const run = await runCli(["init", "--provider", provider, "--hostname", "rancher.corp.example.org"], {
        cwd: dir,
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Wrote k3sinfra.yaml for provider ${provider}`);
      const path = join(dir, "k3sinfra.yaml");
      const text = await readFile(path, "utf8");
      expect(text).toMatch(/^# k3sinfra cluster config/);
      const parsed = ClusterConfigSchema.safeParse((await readConfig(path)).raw);
      expect(parsed.error?.issues ?? []).toEqual([]);
      expect(parsed.data?.provider).toBe(provider);
      expect(parsed.data?.rancher.hostname).toBe("rancher.corp.example.org");
      expect(parsed.data?.dns.zone).toBe("corp.example.org");
    });
  }

  it("writes a memory config that plans cleanly with the provider's own checks", async () => {
    const dir = await tempDir();
    expect((await runCli(["init", "--provider", "memory", "--name", "demo"], { cwd: dir })).code).toBe(0);
    const plan = await runCli(["plan"], { cwd: dir });
    expect(plan.stderr).toBe("");
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("k3sinfra will perform these actions on cluster demo");
  });

  it("checks its flags with the config schema and writes nothing when one is bad", async () => {
    const dir = await tempDir();
    const run = await runCli(
      ["init", "--provider", "aws", "--name", "Bad_Name", "--hostname", "example.com"],
      {
        cwd: dir,
      },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("nothing written");
    expect(run.stderr).not.toContain("--help");
    expect(run.stderr).toMatch(/--name: must be 3-20 lowercase/);
    expect(run.stderr).toContain("--hostname (dns.zone is its parent domain):");
    await expect(readFile(join(dir, "k3sinfra.yaml"), "utf8")).rejects.toThrow();
  });

  it("never overwrites a config", async () => {
    const dir = await tempDir();
    expect((await runCli(["init", "--provider", "aws"], { cwd: dir })).code).toBe(0);
    const before = await readFile(join(dir, "k3sinfra.yaml"), "utf8");
    const again = await runCli(["init", "--provider", "gcp"], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists");
    expect(await readFile(join(dir, "k3sinfra.yaml"), "utf8")).toBe(before);
  });

  it("writes to --config and requires a known --provider", async () => {
    const dir = await tempDir();
    const json = await runCli(["--json", "--config", "clusters/prod.yaml", "init", "--provider", "azure"], {
      cwd: dir,
    });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ path: join(dir, "clusters/prod.yaml"), provider: "azure" });
    // The next steps name the same file, and AWS configs can be tried on the emulator first.
    const human = await runCli(["--config", "clusters/dev.yaml", "init", "--provider", "aws"], { cwd: dir });
    expect(human.stdout).toContain("then run `k3sinfra plan --config clusters/dev.yaml`");
    expect(human.stdout).toContain("`k3sinfra up --emulate --config clusters/dev.yaml`");
    expect((await runCli(["init"], { cwd: dir })).code).toBe(2);
    const bad = await runCli(["init", "--provider", "digitalocean"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Allowed choices are aws, gcp, azure, memory");
  });
});

describe("usage", () => {
  it("--help and --version exit 0; unknown flags and commands exit 2", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Exit codes:");
    expect(help.stdout).toContain("6    plan --detailed-exitcode");
    expect(help.stdout).toContain("143 stopped by SIGTERM");
    const version = await runCli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect((await runCli(["plan", "--bogus"])).code).toBe(2);
    expect((await runCli(["frobnicate"])).code).toBe(2);
    const json = await runCli(["--json", "plan", "--bogus"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: { code: "Usage", exitCode: 2, message: "unknown option '--bogus'" },
    });
  });

  it("usage errors say where the usage is; a bad flag value is a usage error (2), not a crash", async () => {
    const unknown = await runCli(["plan", "--bogus"]);
    expect(unknown.stderr).toContain("Run `k3sinfra plan --help` for its options.");
    expect((await runCli(["frobnicate"])).stderr).toContain("Run `k3sinfra --help`");
    const value = await runCli(["up", "--parallelism", "x"]);
    expect(value.code).toBe(2);
    expect(value.stderr).toContain(
      "option '--parallelism <n>' argument 'x' is invalid. It must be a positive integer.",
    );
    expect(value.stderr).not.toContain("K3SINFRA_DEBUG");
    expect((await runCli(["--time-scale", "0", "plan"])).code).toBe(2);
  });

  it("a missing --config file: the init hint writes that very file", async () => {
    const run = await runCli(["--config", "clusters/staging.yaml", "plan"], { cwd: await tempDir() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "k3sinfra init --provider <aws|gcp|azure|memory> --config clusters/staging.yaml",
    );
  });

  it("accepts global flags after the command", async () => {
    const dir = await tempDir();
    const run = await runCli(["init", "--provider", "memory", "--json"], { cwd: dir });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ provider: "memory" });
  });
});

describe("the starter config", () => {
  it("names the current default versions in its comments", async () => {
    const { DEFAULT_K3S_VERSION, DEFAULT_RANCHER_VERSION } = await import("@k3sinfra/core");
    const { initTemplate } = await import("../src/commands/init-template.js");
    const text = initTemplate("aws", { name: "demo", region: "us-east-1", hostname: "rancher.example.com" });
    expect(text).toContain(`# version: ${DEFAULT_RANCHER_VERSION}`);
    expect(text).toContain(`#   version: ${DEFAULT_K3S_VERSION}`);
  });
});

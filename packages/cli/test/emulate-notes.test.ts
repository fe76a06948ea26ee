import { copyFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EMULATED_VERIFY_REASON } from "../src/commands/read.js";
import { runCli, tempDir } from "./helpers.js";

const example = resolve(fileURLToPath(import.meta.url), "../../../../examples/aws.yaml");

describe("--emulate says what is expected as information", () => {
  it("up notes the skipped datastore check (not a warning); verify lists its checks as skipped and exits 0", async () => {
    const dir = await tempDir();
    const config = join(dir, "k3sinfra.yaml");
    await copyFile(example, config);
    const cli = (...args: string[]) =>
      runCli(["--config", config, "--emulate", "--time-scale", "0.005", ...args]);

    const up = await cli("up", "--yes", "--no-wait");
    expect(up.code, up.stderr).toBe(0);
    const all = up.stdout + up.stderr;
    // The emulated RDS host resolves nowhere: expected, and said as a note.
    expect(all).toMatch(
      /Note: Datastore check skipped: not reachable from this machine \(.*does not resolve/,
    );
    expect(all).not.toMatch(/Warning: Datastore check/);
    // The example's own choice (deletion protection off) is still a warning: it is about the config.
    expect(all).toMatch(/Warning: datastore\.deletionProtection/);

    const verify = await cli("verify");
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const rows = verify.stdout
      .split("\n")
      .filter((l) => /^\s+(dns|tcp:|redirect|tls|ping|server-url)/.test(l));
    expect(rows.map((l) => l.trim().split(/\s+/).slice(0, 2))).toEqual(
      ["dns", "tcp:80", "tcp:443", "redirect", "tls", "ping", "server-url"].map((n) => [n, "skip"]),
    );
    expect(verify.stdout).toContain(EMULATED_VERIFY_REASON);
    expect(verify.stdout).toContain("Checks: 0 pass, 0 fail, 7 skip.");
    expect(verify.stdout).toMatch(/Note: under --emulate verify only lists its checks/);
    expect(verify.stdout + verify.stderr).not.toMatch(/Expected under --emulate|Warning/);

    const json = await cli("verify", "--json");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true });

    const destroy = await cli("destroy", "--yes");
    expect(destroy.code, destroy.stderr).toBe(0);
  }, 120_000);
});

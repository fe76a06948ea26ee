import { execFileSync } from "node:child_process";
import { cp, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "./helpers.js";

/**
 * The bad-config corpus: every file in fixtures/bad-configs is an invalid config whose first lines say why
 * (`# why:`) and which config paths the error must name (`# expect:`). Each is run through `plan` and `up`
 * against one shared emulated AWS; each must exit 2, name every expected path, and leave the emulator's
 * request log as it was: nothing is called, let alone created, for a config that is wrong.
 */
const FIXTURES = fileURLToPath(new URL("./fixtures/bad-configs/", import.meta.url));

// JSON has no comments: these fixtures' expectations live here.
const JSON_EXPECT: Record<string, string[]> = {
  "json-syntax.json": ["(file)"],
  "json-wrong-types.json": ["name", "nodes.count", "dns.zone"],
};

let emulator: Emulator;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  emulator = await startEmulator({
    clouds: ["aws"],
    timeScale: 0.001,
    fixtures: { aws: { hostedZones: ["example.com"] } },
    log: () => undefined,
  });
  const endpoint = emulator.endpoints.aws;
  if (!endpoint) throw new Error("the emulator serves no AWS endpoint");
  env = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: emulator.credentials.aws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulator.credentials.aws.secretAccessKey,
    AWS_REGION: "us-east-1",
  };
  // A copy, so that a config that wrongly passed could never write state into the source tree.
  dir = await tempDir();
  await cp(FIXTURES, dir, { recursive: true });
});
afterAll(() => emulator?.stop());

/** Runs `k3sinfra <args> --config <file>` and checks exit 2, every path named, and no request made. */
const refuses = async (config: string, expected: readonly string[], args: readonly string[]) => {
  const before = emulator.requestLog().length;
  const run = await runCli(["--no-color", "--config", config, ...args], { cwd: dir, env });
  expect(run.code, `${config}: ${run.stderr}${run.stdout}`).toBe(2);
  for (const path of expected) expect(run.stderr, config).toContain(`✗ ${path}:`);
  expect(emulator.requestLog().slice(before), config).toEqual([]);
  return run;
};

const corpus = (await readdir(FIXTURES)).filter((f) => f.endsWith(".yaml") || f.endsWith(".json")).sort();

const expectations = async (file: string): Promise<string[]> => {
  if (file.endsWith(".json")) return JSON_EXPECT[file] ?? [];
  const line = (await readFile(join(FIXTURES, file), "utf8")).match(/^# expect: (.+)$/m)?.[1];
  return line ? line.split(",").map((p) => p.trim()) : [];
};

describe("the bad-config corpus", () => {
  it("holds at least 60 configs, each with its expected paths", async () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    for (const file of corpus) expect((await expectations(file)).length, file).toBeGreaterThan(0);
  });

  it.each(corpus)("%s: plan and up exit 2, name the path, and call nothing", async (file) => {
    const expected = await expectations(file);
    await refuses(file, expected, ["plan"]);
    await refuses(file, expected, ["up", "--yes"]);
  });

  it("prints all five mistakes of a config with five", async () => {
    const run = await refuses("five-mistakes.yaml", [], ["plan"]);
    const lines = run.stderr.split("\n").filter((l) => l.includes("✗"));
    expect(lines).toHaveLength(5);
    expect(run.stderr).toContain("✗ loadbalancer: is not a key k3sinfra knows: did you mean 'loadBalancer'?");
    expect(run.stderr).toContain("✗ nodes.count: is 9, over the maximum of 7: use 7 or less");
    expect(run.stderr).toMatch(
      /✗ name: makes the aws RDS DB instance identifier 'k3s-rk--x1-db', which may not contain two hyphens in a row/,
    );
  });

  it("says what is wrong, not what follows from it", async () => {
    const region = await refuses("region-not-aws.yaml", ["region"], ["plan"]);
    // The zones cannot be judged against a region that is not one.
    expect(region.stderr).not.toContain("✗ zones");
    const json = await refuses("json-wrong-types.json", [], ["plan"]);
    expect(json.stderr).toContain("✗ name: must be a text value, not 7");
    expect(json.stderr).toContain("✗ dns.zone: must be a text value, not a list");
  });

  it("refuses before the emulator starts with --emulate", async () => {
    const run = await runCli(["--no-color", "--config", "nodes-count-nine.yaml", "--emulate", "plan"], {
      cwd: dir,
      env,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("✗ nodes.count:");
    expect(run.stderr).not.toContain("EMULATED CLOUD");
  });
});

describe("config files that are not config files", () => {
  const special = async (name: string, make: (path: string) => Promise<unknown>, message: RegExp) => {
    const path = join(dir, "special", name);
    await mkdir(join(dir, "special"), { recursive: true });
    await make(path);
    const run = await refuses(path, ["(file)"], ["plan"]);
    expect(run.stderr).toMatch(message);
    await refuses(path, ["(file)"], ["up", "--yes"]);
  };

  it("a directory", () =>
    special("a-dir.yaml", (p) => mkdir(p), /is a directory: pass the config file inside it/));

  it("a FIFO, without blocking on it", () =>
    // Opening a FIFO for reading would wait for a writer forever: the test would time out.
    special("a-fifo.yaml", async (p) => execFileSync("mkfifo", [p]), /is a named pipe \(FIFO\)/));

  it("a socket", async () => {
    let server: Server | undefined;
    try {
      await special(
        "a-socket.yaml",
        (p) =>
          new Promise<void>((resolve) => {
            server = createServer().listen(p, () => resolve());
          }),
        /is a socket/,
      );
    } finally {
      server?.close();
    }
  });

  it("a device", async () => {
    const run = await refuses("/dev/null", ["(file)"], ["plan"]);
    expect(run.stderr).toMatch(/\/dev\/null is a device/);
  });

  it("a symbolic link loop", () =>
    special(
      "loop.yaml",
      async (p) => {
        await symlink(`${p}.other`, p);
        await symlink(p, `${p}.other`);
      },
      /is a symbolic link that loops back on itself/,
    ));

  it("a dangling symbolic link", () =>
    special("dangling.yaml", (p) => symlink("/nowhere/k3sinfra.yaml", p), /which does not exist/));

  it("bytes that are not UTF-8", () =>
    special(
      "latin1.yaml",
      (p) =>
        writeFile(
          p,
          Buffer.concat([
            Buffer.from("name: corpus\nregion: M"),
            Buffer.from([0xfc]),
            Buffer.from("nchen\n"),
          ]),
        ),
      /is not UTF-8 text \(a byte that is not UTF-8 at line 2, column 10\): save it as UTF-8/,
    ));

  it("UTF-16 text", () =>
    special(
      "utf16.yaml",
      (p) => writeFile(p, Buffer.from("\ufeffname: corpus\n", "utf16le")),
      /is UTF-16 text/,
    ));

  it("an oversized file", () =>
    special(
      "huge.yaml",
      (p) => writeFile(p, `# ${"x".repeat(2 * 1024 * 1024)}\nname: corpus\n`),
      /is \d+ bytes, over the 1 MiB a config may have/,
    ));

  it("an empty file", () => special("empty.yaml", (p) => writeFile(p, ""), /is empty/));
});

describe("--strict", () => {
  const risky = async () => {
    const path = join(dir, "risky.yaml");
    await writeFile(
      path,
      "name: risky\nprovider: aws\nregion: us-east-1\nzones: [us-east-1a, us-east-1b]\n" +
        "nodes:\n  adminCidrs: [0.0.0.0/0]\n  sshKeyName: me\ndatastore:\n  deletionProtection: false\n" +
        "dns:\n  zone: example.com\nrancher:\n  hostname: rancher.example.com\n",
    );
    return path;
  };

  it("makes risky choices errors, before any call", async () => {
    const path = await risky();
    for (const args of [
      ["plan", "--strict"],
      ["up", "--yes", "--strict"],
    ]) {
      const run = await refuses(
        path,
        ["nodes.adminCidrs[0]", "nodes.sshKeyName", "datastore.deletionProtection"],
        args,
      );
      expect(run.stderr).toContain("an error with --strict");
    }
  });

  it("without it, plan shows them as warnings and goes on", async () => {
    const run = await runCli(["--no-color", "--config", await risky(), "plan"], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /Warning: nodes\.adminCidrs\[0\]: 0\.0\.0\.0\/0 opens the K3s API \(6443\) and SSH \(22\)/,
    );
    expect(run.stdout).toMatch(/Warning: datastore\.deletionProtection: is off/);
  });
});

import { type ChildProcess, spawn } from "node:child_process";
import { copyFile, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FileStateStore, keyFileKeySource, passphraseKeySource, STATE_VERSION } from "@k3sinfra/core";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

// Two CLI processes with their own HOME share one S3 state on the emulator; every call crosses HTTP.
const root = resolve(fileURLToPath(import.meta.url), "../../../..");
const AUTH =
  "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";
const BUCKET = "team-state";
const KEY = "k3sinfra/memtest.state.json";

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ timeScale: 0.001, seed: 5, log: () => undefined });
  await s3("PUT", `/${BUCKET}`);
  const versioning =
    '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>';
  await s3("PUT", `/${BUCKET}?versioning`, versioning);
});
afterAll(async () => {
  await emu?.stop();
});

function s3(
  method: string,
  path: string,
  body = "",
): Promise<{ status: number; body: string; etag?: string }> {
  return new Promise((done, fail) => {
    const req = request(
      new URL(path, emu.endpoints.aws!),
      { method, headers: { authorization: AUTH, "content-length": Buffer.byteLength(body) } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => done({ status: res.statusCode ?? 0, body: text, etag: res.headers.etag }));
      },
    );
    req.on("error", fail);
    req.end(body);
  });
}

/** Serials of every stored version of the state, oldest first. */
async function serials(): Promise<number[]> {
  const listed = await s3("GET", `/${BUCKET}?versions&prefix=${encodeURIComponent(KEY)}`);
  const ids = [...listed.body.matchAll(/<Version><Key>([^<]+)<\/Key><VersionId>([^<]+)</g)]
    .filter((m) => m[1] === KEY)
    .map((m) => m[2]!)
    .reverse();
  const out: number[] = [];
  for (const id of ids)
    out.push(JSON.parse((await s3("GET", `/${BUCKET}/${KEY}?versionId=${id}`)).body).serial);
  return out;
}

const home = () => mkdtemp(join(tmpdir(), "k3sinfra-home-"));

async function project(state: string): Promise<{ dir: string; config: string }> {
  const dir = await mkdtemp(join(tmpdir(), "k3sinfra-team-"));
  const config = join(dir, "k3sinfra.yaml");
  await writeFile(
    config,
    `name: memtest
provider: memory
region: memory-1
dns:
  zone: example.com
rancher:
  hostname: rancher.example.com
datastore:
  deletionProtection: false
options:
  memory:
    persistPath: ${join(dir, "cloud.json")}
state:
${state}`,
  );
  return { dir, config };
}

const s3State = (extra = "") =>
  `  backend: s3\n  provider: aws\n  bucket: ${BUCKET}\n  region: us-east-1\n  key: ${KEY}\n${extra}`;

interface Run {
  child: ChildProcess & { pid: number };
  out: () => string;
  exit: Promise<number | null>;
  waitFor(pattern: RegExp): Promise<void>;
}

/** `k3sinfra <args>` from the sources with its own HOME; through `script` (a terminal) when `tty`. */
function cli(args: readonly string[], env: Record<string, string>, tty = false): Run {
  const argv = [
    "--conditions=@k3sinfra/source",
    "--import",
    "tsx",
    join(root, "packages/cli/src/bin.ts"),
    ...args,
  ];
  const fullEnv = {
    ...process.env,
    TSX_TSCONFIG_PATH: join(root, "tsconfig.base.json"),
    AWS_ENDPOINT_URL: emu.endpoints.aws!,
    AWS_ACCESS_KEY_ID: emu.credentials.aws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emu.credentials.aws.secretAccessKey,
    K3SINFRA_STATE_PASSPHRASE: "",
    NO_COLOR: "1",
    ...env,
  };
  const quoted = [process.execPath, ...argv].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const child = (
    tty
      ? spawn("script", ["-qfec", quoted, "/dev/null"], { cwd: root, env: fullEnv, stdio: "pipe" })
      : spawn(process.execPath, argv, { cwd: root, env: fullEnv, stdio: "pipe" })
  ) as ChildProcess & { pid: number };
  let out = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (out += b.toString()));
  const exit = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  const waitFor = (pattern: RegExp) =>
    new Promise<void>((done, fail) => {
      const check = () => {
        if (pattern.test(out)) done();
      };
      child.stdout?.on("data", check);
      child.stderr?.on("data", check);
      void exit.then((code) => fail(new Error(`exited (${code}) before ${pattern}:\n${out}`)));
      check();
    });
  return { child, out: () => out, exit, waitFor };
}

describe("k3sinfra with state on S3, shared by two machines", () => {
  it("refuses a concurrent up naming the holder; after kill -9 the other takes over with a notice; no version regresses", async () => {
    const { config } = await project(s3State());
    const passphrase = { K3SINFRA_STATE_PASSPHRASE: "team secret" };
    const first = cli(["--config", config, "up", "--yes"], { ...passphrase, HOME: await home() });
    expect(await first.exit, first.out()).toBe(0);
    const base = await serials();
    expect(base.length).toBeGreaterThan(0);

    // A second run, at its confirmation prompt (a terminal that never answers), holds the lock under its plan.
    await writeFile(
      config,
      (await readFile(config, "utf8")).replace("datastore:\n", "nodes:\n  count: 3\ndatastore:\n"),
    );
    const holder = cli(["--config", config, "up"], { ...passphrase, HOME: await home() }, true);
    await holder.waitFor(/Do you want k3sinfra to perform these actions/);
    const lock = JSON.parse((await s3("GET", `/${BUCKET}/${KEY}.lock`)).body) as {
      pid: number;
      owner: string;
    };

    const other = { ...passphrase, HOME: await home() };
    const refused = cli(["--config", config, "up", "--yes"], other);
    expect(await refused.exit).not.toBe(0);
    expect(refused.out()).toContain(`is locked by ${lock.owner} (up, since`);

    process.kill(lock.pid, "SIGKILL");
    await holder.exit;
    const taker = cli(["--config", config, "up", "--yes"], other);
    expect(await taker.exit, taker.out()).toBe(0);
    expect(taker.out()).toContain(`took over the lock of ${lock.owner}`);
    // Gone either way: reaped (no longer running) or not yet (exited).
    expect(taker.out()).toMatch(
      new RegExp(`its process \\(pid ${lock.pid}\\) (is no longer running|has exited)`),
    );
    expect((await s3("GET", `/${BUCKET}/${KEY}.lock`)).status).toBe(404);

    // Every version, oldest first: serials only ever go up.
    const all = await serials();
    expect(all.length).toBeGreaterThan(base.length);
    for (let i = 1; i < all.length; i++) expect(all[i]).toBeGreaterThan(all[i - 1]!);
  }, 240_000);

  it("a lock from another machine: refused while its lease runs, taken over with a notice once it has expired", async () => {
    const stateKey = "remote-holder/memtest.state.json";
    const { config } = await project(s3State().replace(`key: ${KEY}`, `key: ${stateKey}`));
    const env = { K3SINFRA_STATE_PASSPHRASE: "team secret", HOME: await home() };
    // What a run on a CI runner left: its host is not this one, so only its lease says whether it still runs.
    const lock = (expiresAt: string) =>
      JSON.stringify({
        id: "0f0f0f0f-0000-4000-8000-00000000c1c1",
        owner: "runner@ci-7 pid 4242",
        operation: "up",
        acquiredAt: "2026-01-01T00:00:00.000Z",
        expiresAt,
        host: "ci-7",
        pid: 4242,
      });
    expect((await s3("PUT", `/${BUCKET}/${stateKey}.lock`, lock("2999-01-01T00:00:00.000Z"))).status).toBe(
      200,
    );
    const refused = cli(["--config", config, "up", "--yes"], env);
    expect(await refused.exit).toBe(3);
    expect(refused.out()).toContain("is locked by runner@ci-7 pid 4242 (up, since 2026-01-01T00:00:00.000Z");
    expect(refused.out()).toContain("k3sinfra force-unlock 0f0f0f0f-0000-4000-8000-00000000c1c1");

    expect((await s3("PUT", `/${BUCKET}/${stateKey}.lock`, lock("2026-01-01T00:05:00.000Z"))).status).toBe(
      200,
    );
    const taker = cli(["--config", config, "up", "--yes"], env);
    expect(await taker.exit, taker.out()).toBe(0);
    expect(taker.out()).toContain(
      "took over the lock of runner@ci-7 pid 4242 (up, since 2026-01-01T00:00:00.000Z), whose lease expired at 2026-01-01T00:05:00.000Z",
    );
    expect((await s3("GET", `/${BUCKET}/${stateKey}.lock`)).status).toBe(404);
  }, 240_000);

  it("warns on its first lock when the bucket keeps no versions", async () => {
    await s3("PUT", "/team-unversioned");
    const { config } = await project(s3State().replace(`bucket: ${BUCKET}`, "bucket: team-unversioned"));
    const run = cli(["--config", config, "up", "--yes"], {
      K3SINFRA_STATE_PASSPHRASE: "x",
      HOME: await home(),
    });
    expect(await run.exit, run.out()).toBe(0);
    expect(run.out()).toContain("Versioning is off on bucket team-unversioned");
    const missing = await project(s3State().replace(`bucket: ${BUCKET}`, "bucket: no-such-team-bucket"));
    const refused = cli(["--config", missing.config, "up", "--yes"], {
      K3SINFRA_STATE_PASSPHRASE: "x",
      HOME: await home(),
    });
    expect(await refused.exit).toBe(2);
    expect(refused.out()).toMatch(/state\.bucket.*bucket no-such-team-bucket does not exist/);
  }, 240_000);

  it("migrates local → S3 → local with byte-identical secrets; a wrong passphrase changes nothing", async () => {
    const { dir, config } = await project(
      s3State().replace(`key: ${KEY}`, "key: migrate/memtest.state.json"),
    );
    const userHome = await home();
    const localPath = join(dir, ".k3sinfra", "memtest.state.json");
    const secrets = {
      k3sToken: "K10-migrate-token",
      datastorePassword: "pw-1",
      datastoreK3sPassword: "pw-2",
      rancherBootstrapPassword: "pw-3",
    };
    // A local state sealed with this machine's key file, as a laptop has it.
    await new FileStateStore({
      path: localPath,
      keySource: keyFileKeySource(join(userHome, ".config", "k3sinfra", "state.key")),
    }).write({
      version: STATE_VERSION,
      lineage: "3c0ffee0-0000-4000-8000-000000000002",
      serial: 4,
      cluster: "memtest",
      hostname: "rancher.example.com",
      resources: {},
      journal: [],
      secrets,
      outputs: undefined,
    });

    const noPassphrase = cli(["--config", config, "--yes", "state", "migrate", "--to", "s3"], {
      HOME: userHome,
    });
    expect(await noPassphrase.exit).not.toBe(0);
    expect(noPassphrase.out()).toMatch(/exists on this machine only/);

    const env = { HOME: userHome, K3SINFRA_STATE_PASSPHRASE: "migrate secret" };
    const up = cli(["--config", config, "--yes", "state", "migrate", "--to", "s3"], env);
    expect(await up.exit, up.out()).toBe(0);
    const remote = await s3("GET", `/${BUCKET}/migrate/memtest.state.json`);
    expect(JSON.parse(remote.body)).toMatchObject({ serial: 4, secrets: { key: "passphrase" } });
    expect(remote.body).not.toContain("K10-migrate-token");

    const pulled = cli(["--config", config, "state", "pull"], { HOME: await home() });
    expect(await pulled.exit).toBe(0);
    expect(JSON.parse(pulled.out())).toMatchObject({
      serial: 4,
      secrets: { sealedWith: "passphrase", values: "********" },
    });
    const listed = cli(["--config", config, "--json", "state", "list"], { HOME: await home() });
    expect(await listed.exit).toBe(0);
    expect(JSON.parse(listed.out()).clusters).toEqual(["memtest"]);

    const wrong = cli(["--config", config, "--yes", "state", "migrate", "--to", "local"], {
      ...env,
      K3SINFRA_STATE_PASSPHRASE: "guess",
    });
    expect(await wrong.exit).not.toBe(0);
    expect(wrong.out()).toMatch(
      /Cannot decrypt the secrets in s3:\/\/team-state\/migrate\/memtest\.state\.json/,
    );
    expect((await s3("GET", `/${BUCKET}/migrate/memtest.state.json`)).etag).toBe(remote.etag);
    await expect(readFile(localPath)).rejects.toThrow();

    const back = cli(["--config", config, "--yes", "state", "migrate", "--to", "local"], env);
    expect(await back.exit, back.out()).toBe(0);
    expect((await s3("GET", `/${BUCKET}/migrate/memtest.state.json`)).status).toBe(404);
    const local = await new FileStateStore({
      path: localPath,
      keySource: passphraseKeySource("migrate secret"),
    }).read();
    expect(local?.secrets).toEqual(secrets);
    expect(local?.serial).toBe(4);
  }, 240_000);
  it("with a KMS key: migrates without a passphrase; another key fails clearly and changes nothing", async () => {
    const made = async () => {
      const res = await fetch(emu.endpoints.aws!, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": "TrentService.CreateKey",
          authorization: AUTH.replace("/s3/", "/kms/"),
        },
        body: "{}",
      });
      return ((await res.json()) as { KeyMetadata: { Arn: string } }).KeyMetadata.Arn;
    };
    const [key, other] = [await made(), await made()];
    const stateKey = "kms/memtest.state.json";
    const block = s3State(`  kmsKeyId: ${key}\n`).replace(`key: ${KEY}`, `key: ${stateKey}`);
    const { dir, config } = await project(block);
    const userHome = await home();
    const localPath = join(dir, ".k3sinfra", "memtest.state.json");
    const secrets = {
      k3sToken: "K10-kms-token",
      datastorePassword: "kms-1",
      datastoreK3sPassword: "kms-2",
      rancherBootstrapPassword: "kms-3",
    };
    await new FileStateStore({
      path: localPath,
      keySource: keyFileKeySource(join(userHome, ".config", "k3sinfra", "state.key")),
    }).write({
      version: STATE_VERSION,
      lineage: "3c0ffee0-0000-4000-8000-000000000003",
      serial: 2,
      cluster: "memtest",
      hostname: "rancher.example.com",
      resources: {},
      journal: [],
      secrets,
      outputs: undefined,
    });
    const env = { HOME: userHome };
    const there = cli(["--config", config, "--yes", "state", "migrate", "--to", "s3"], env);
    expect(await there.exit, there.out()).toBe(0);
    const remote = await s3("GET", `/${BUCKET}/${stateKey}`);
    expect(JSON.parse(remote.body).secrets).toMatchObject({
      key: "wrapped",
      wrapped: { by: "kms", keyId: key },
    });

    await writeFile(config, (await readFile(config, "utf8")).replace(key, other));
    const wrong = cli(["--config", config, "--yes", "state", "migrate", "--to", "local"], env);
    expect(await wrong.exit).not.toBe(0);
    expect(wrong.out()).toMatch(/sealed under another KMS key/);
    expect((await s3("GET", `/${BUCKET}/${stateKey}`)).etag).toBe(remote.etag);
    await expect(readFile(localPath)).rejects.toThrow();

    await writeFile(config, (await readFile(config, "utf8")).replace(other, key));
    const back = cli(["--config", config, "--yes", "state", "migrate", "--to", "local"], {
      ...env,
      K3SINFRA_STATE_PASSPHRASE: "local now",
    });
    expect(await back.exit, back.out()).toBe(0);
    const local = await new FileStateStore({
      path: localPath,
      keySource: passphraseKeySource("local now"),
    }).read();
    expect(local?.secrets).toEqual(secrets);
  }, 240_000);

  it("an --emulate run keeps its state local and says state.backend was ignored", async () => {
    const dir = await mkdtemp(join(tmpdir(), "k3sinfra-emu-"));
    const config = join(dir, "k3sinfra.yaml");
    await copyFile(join(root, "examples/aws.yaml"), config);
    await writeFile(
      config,
      `${await readFile(config, "utf8")}\nstate:\n  backend: s3\n  bucket: real-bucket-of-someone\n  region: us-east-1\n`,
    );
    const run = await runCli(["--config", config, "--emulate", "plan", "--refresh=false"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/Ignored in the emulated run.*state\.backend/);
  }, 120_000);
});

import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { KMS } from "@aws-sdk/client-kms";
import { S3 } from "@aws-sdk/client-s3";
import {
  BackendStateStore,
  type ClusterState,
  InvalidConfigError,
  LockHeldError,
  nextState,
  passphraseKeySource,
  STATE_VERSION,
  StateConflictError,
  StateKeyError,
} from "@k3sinfra/core";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3StateBackend, s3StateBackend } from "../src/index.js";

const SECRETS = {
  k3sToken: "K10-token-s3-test",
  datastorePassword: "datastore-pw-s3",
  datastoreK3sPassword: "k3s-pw-s3",
  rancherBootstrapPassword: "rancher-pw-s3",
};

function sample(cluster = "team"): ClusterState {
  return {
    version: STATE_VERSION,
    lineage: "5a1e0000-0000-4000-8000-000000000001",
    serial: 1,
    cluster,
    hostname: "rancher.example.com",
    resources: {},
    journal: [],
    secrets: SECRETS,
    outputs: undefined,
  };
}

let emu: Emulator;
let s3: S3;
let kms: KMS;
let env: Record<string, string>;

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 0.001, seed: 17, log: () => undefined });
  const endpoint = emu.endpoints.aws!;
  const cfg = { region: "us-east-1", endpoint, credentials: emu.credentials.aws, forcePathStyle: true };
  s3 = new S3(cfg);
  kms = new KMS(cfg);
  env = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: emu.credentials.aws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emu.credentials.aws.secretAccessKey,
  };
});
afterAll(async () => {
  await emu?.stop();
});

async function bucket(name: string, versioned = true): Promise<string> {
  await s3.createBucket({ Bucket: name });
  if (versioned)
    await s3.putBucketVersioning({ Bucket: name, VersioningConfiguration: { Status: "Enabled" } });
  return name;
}

const backend = (name: string, extra: Record<string, unknown> = {}, cluster = "team") => {
  const parsed = s3StateBackend.parse({ bucket: name, region: "us-east-1", ...extra });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return new S3StateBackend(parsed.value, { cluster, env, baseDir: "/" });
};

const store = (b: S3StateBackend, extra: Partial<ConstructorParameters<typeof BackendStateStore>[0]> = {}) =>
  new BackendStateStore({
    backend: b,
    cluster: "team",
    keySource: passphraseKeySource("team passphrase"),
    ...extra,
  });

describe("S3 state backend on the emulator", () => {
  it("stores the state encrypted at rest with its secrets sealed, and reads it back elsewhere", async () => {
    const b = backend(await bucket("state-basic"));
    await store(b).write(sample());
    const raw = await s3.getObject({ Bucket: "state-basic", Key: "k3sinfra/team.state.json" });
    expect(raw.ServerSideEncryption).toBe("AES256");
    const text = await raw.Body!.transformToString();
    expect(text).not.toContain(SECRETS.k3sToken);
    expect((await store(backend("state-basic")).read())?.secrets).toEqual(SECRETS);
    expect(
      emu.inventory().some((i) => i.service === "s3" && i.id === "state-basic/k3sinfra/team.state.json"),
    ).toBe(true);
  });

  it("refuses a second lock naming the holder; takes an expired lease over with a notice; the loser's write is refused", async () => {
    const name = await bucket("state-lock");
    let at = Date.parse("2026-06-01T00:00:00Z");
    const notices: string[] = [];
    const a = store(backend(name), {
      owner: "ci@runner-1",
      leaseMs: 60_000,
      renewMs: 3_600_000,
      now: () => at,
      onWarning: (m) => notices.push(m),
    });
    const b = store(backend(name), {
      owner: "dev@laptop",
      leaseMs: 60_000,
      renewMs: 3_600_000,
      now: () => at,
      onWarning: (m) => notices.push(m),
    });
    await a.write(sample());
    const held = await a.lock("up");
    const refused = await b.lock("up").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LockHeldError);
    expect((refused as Error).message).toContain("ci@runner-1");
    const stale = (await a.read())!;
    at += 60_001;
    const taken = await b.lock("up");
    expect(taken.takenOver?.reason).toBe("expired");
    expect(notices.join("\n")).toMatch(/took over the lock of ci@runner-1/);
    await b.write(nextState((await b.read())!, { hostname: "new.example.com" }));
    // The old holder cannot renew, release or overwrite: its ETag is stale and its serial is behind.
    expect(await held.renew()).toBe(false);
    await expect(a.write(nextState(stale))).rejects.toBeInstanceOf(StateConflictError);
    await held.release();
    expect((await b.lockInfo())?.owner).toBe("dev@laptop");
    await taken.release();
    expect(await b.lockInfo()).toBeUndefined();
  });

  it("writes only over the version it read: a writer that read before another's write is refused", async () => {
    const b = backend(await bucket("state-cas"));
    await store(b).write(sample());
    const before = (await b.read())!;
    await store(backend("state-cas")).write(nextState((await store(b).read())!));
    expect(await b.write(Buffer.from("{}"), before.version)).toBeUndefined();
    expect(JSON.parse(Buffer.from((await b.read())!.bytes).toString()).serial).toBe(2);
  });

  it("never regresses: every stored version, oldest to newest, has a higher serial", async () => {
    const name = await bucket("state-versions");
    const stores = [store(backend(name)), store(backend(name))];
    await stores[0]!.write(sample());
    for (let n = 0; n < 6; n++) {
      const s = stores[n % 2]!;
      const lock = await s.lock("up");
      await s.write(nextState((await s.read())!));
      await lock.release();
    }
    const listed = await s3.listObjectVersions({ Bucket: name, Prefix: "k3sinfra/team.state.json" });
    const ids = (listed.Versions ?? [])
      .filter((v) => v.Key === "k3sinfra/team.state.json")
      .map((v) => v.VersionId!);
    const serials: number[] = [];
    for (const VersionId of ids.reverse()) {
      const o = await s3.getObject({ Bucket: name, Key: "k3sinfra/team.state.json", VersionId });
      serials.push(JSON.parse(await o.Body!.transformToString()).serial);
    }
    expect(serials).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("keeps the previous state when a write dies mid-upload (never torn)", async () => {
    const b = backend(await bucket("state-torn"));
    await store(b).write(sample());
    const url = new URL(`/state-torn/k3sinfra/team.state.json`, emu.endpoints.aws!);
    await new Promise<void>((resolve) => {
      const req = request(url, {
        method: "PUT",
        headers: {
          "content-length": 10_000,
          authorization:
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
        },
      });
      req.on("error", () => resolve());
      req.write('{"version":1,"lineage":"x","serial":2,"clus', () => {
        req.destroy();
        resolve();
      });
    });
    // The emulator answers in order: a later request is handled after the dead one's socket closed.
    const read = await store(backend("state-torn")).read();
    expect(read?.serial).toBe(1);
    expect(read?.secrets).toEqual(SECRETS);
  });

  it("takes a conditional write whose answer was lost (the SDK retries, S3 says 412) as done when the bytes are ours", async () => {
    const name = await bucket("state-lost-answer");
    await store(backend(name)).write(sample());
    // A proxy that forwards the first conditional PUT of the state, lets it land, and cuts the answer off.
    let cut = 0;
    const target = new URL(emu.endpoints.aws!);
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const forward = request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (answer) => {
            const drop = req.method === "PUT" && req.headers["if-match"] !== undefined && cut++ === 0;
            if (drop) {
              answer.resume();
              answer.on("end", () => req.socket.destroy());
              return;
            }
            res.writeHead(answer.statusCode ?? 500, answer.headers);
            answer.pipe(res);
          },
        );
        forward.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((done) => proxy.listen(0, "127.0.0.1", done));
    try {
      const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const s = store(backend(name, { endpoint }));
      await s.write(nextState((await s.read())!));
      expect(cut).toBeGreaterThan(1);
      expect((await store(backend(name)).read())?.serial).toBe(2);
    } finally {
      await new Promise((done) => proxy.close(done));
    }
  });

  it("wraps the data key with KMS: the same key reads it, another key fails clearly and nothing changes", async () => {
    const name = await bucket("state-kms");
    const key = (await kms.createKey({ Description: "team state" })).KeyMetadata!.Arn!;
    const other = (await kms.createKey({})).KeyMetadata!.KeyId!;
    const b = backend(name, { kmsKeyId: key });
    // No passphrase and no key source: the backend's KMS wrapper is the key.
    await new BackendStateStore({ backend: b, cluster: "team" }).write(sample());
    const doc = JSON.parse(Buffer.from((await b.read())!.bytes).toString());
    expect(doc.secrets).toMatchObject({ key: "wrapped", wrapped: { by: "kms", keyId: key } });
    const head = await s3.headObject({ Bucket: name, Key: "k3sinfra/team.state.json" });
    expect(head.ServerSideEncryption).toBe("aws:kms");
    expect(
      (await new BackendStateStore({ backend: backend(name, { kmsKeyId: key }) }).read())?.secrets,
    ).toEqual(SECRETS);
    const before = (await b.read())!.version;
    const wrong = await new BackendStateStore({ backend: backend(name, { kmsKeyId: other }) })
      .read()
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(StateKeyError);
    expect((wrong as Error).message).toMatch(/sealed under another KMS key.*state\.kmsKeyId/);
    const missing = await new BackendStateStore({ backend: backend(name, { kmsKeyId: "alias/none" }) })
      .read()
      .catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/no such key/);
    expect((await b.read())!.version).toBe(before);
  });

  it("preflight warns when versioning is off and names state.bucket when the bucket is missing", async () => {
    const off = backend(await bucket("state-unversioned", false));
    expect((await off.preflight()).join("\n")).toMatch(/Versioning is off on bucket state-unversioned/);
    expect(await backend("state-basic").preflight()).toEqual([]);
    const error = await backend("state-missing")
      .preflight()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).issues[0]?.path).toBe("state.bucket");
  });

  it("lists the clusters beside a state, and validates its block", async () => {
    const name = await bucket("state-list");
    for (const cluster of ["prod", "staging"]) await store(backend(name, {}, cluster)).write(sample(cluster));
    expect(await backend(name).list()).toEqual(["prod", "staging"]);
    const bad = s3StateBackend.parse({ bucket: "Bad_Name", colour: "red" });
    expect(bad.ok ? [] : bad.issues.map((i) => i.path).sort()).toEqual(["bucket", "colour", "region"]);
  });
});

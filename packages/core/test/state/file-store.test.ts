import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { K3sinfraError } from "../../src/errors.js";
import {
  defaultKeySource,
  FileStateStore,
  keyFileKeySource,
  nextState,
  passphraseKeySource,
  STATE_PASSPHRASE_ENV,
  StateConflictError,
  StateCorruptError,
  StateKeyError,
} from "../../src/state/index.js";
import { SECRETS, sampleState, tempDir } from "./fixtures.js";

const mode = async (path: string) => (await stat(path)).mode & 0o777;

async function store(dir: string, passphrase = "correct horse") {
  return new FileStateStore({
    path: join(dir, "prod.json"),
    cluster: "prod",
    keySource: passphraseKeySource(passphrase),
  });
}

describe("FileStateStore: files", () => {
  it("reads undefined before the first write, then round-trips the state", async () => {
    const s = await store(await tempDir());
    expect(await s.read()).toBeUndefined();
    const state = sampleState();
    await s.write(state);
    expect(await s.read()).toEqual(state);
    // A second instance (another process) reads the same thing.
    expect(await (await store(join(s.path, ".."))).read()).toEqual(state);
  });

  it("round-trips a state without secrets, hostname or outputs", async () => {
    const s = await store(await tempDir());
    const state = { ...sampleState(), secrets: undefined, hostname: undefined, outputs: undefined };
    await s.write(state);
    expect(await s.read()).toEqual(state);
    expect(JSON.parse(await readFile(s.path, "utf8")).secrets).toBeUndefined();
  });

  it("creates the directory 0700 and the state file 0600", async () => {
    const dir = join(await tempDir(), "nested", ".k3sinfra");
    const s = await store(dir);
    await s.write(sampleState());
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(s.path)).toBe(0o600);
  });

  it("keeps the other fields readable JSON", async () => {
    const s = await store(await tempDir());
    await s.write(sampleState());
    const doc = JSON.parse(await readFile(s.path, "utf8"));
    expect(doc).toMatchObject({ cluster: "prod", serial: 1, hostname: "rancher.example.com" });
    expect(doc.resources["node-1"].state.id).toBe("i-0abc");
    expect(doc.journal[0].token).toBe("tok-1");
    expect(doc.secrets).toMatchObject({ alg: "aes-256-gcm", key: "passphrase", kdf: { name: "scrypt" } });
  });

  it("replaces the file atomically, leaves no temp files and keeps the previous serial as backup", async () => {
    const dir = await tempDir();
    const s = await store(dir);
    const first = sampleState();
    await s.write(first);
    const second = nextState(first, { hostname: "other.example.com" });
    await s.write(second);
    expect((await readdir(dir)).sort()).toEqual(["prod.json", "prod.json.backup"]);
    expect(await mode(s.backupPath)).toBe(0o600);
    expect(JSON.parse(await readFile(s.backupPath, "utf8"))).toMatchObject({
      serial: 1,
      hostname: "rancher.example.com",
    });
    expect((await s.read())?.serial).toBe(2);
    await s.write(nextState(second));
    expect(JSON.parse(await readFile(s.backupPath, "utf8")).serial).toBe(2);
  });

  it("refuses a write whose serial is not the next one, or of another lineage", async () => {
    const s = await store(await tempDir());
    const first = sampleState();
    await s.write(first);
    const before = await readFile(s.path);
    await expect(s.write(first)).rejects.toThrow(StateConflictError);
    await expect(s.write(nextState(nextState(first)))).rejects.toThrow(/serial 1.*must be serial 2, not 3/);
    await expect(s.write(sampleState())).rejects.toThrow(/different state \(lineage/);
    // Two writers that read the same serial: the second one loses.
    await s.write(nextState(first));
    await expect(s.write(nextState(first, { hostname: "x" }))).rejects.toThrow(StateConflictError);
    expect((await s.read())?.hostname).toBe("rancher.example.com");
    expect(before.length).toBeGreaterThan(0);
  });

  it("reports a torn or foreign file clearly, naming the backup", async () => {
    const s = await store(await tempDir());
    await writeFile(s.path, '{"version": 1, "lineage": "x", "ser');
    await expect(s.read()).rejects.toThrow(StateCorruptError);
    await expect(s.read()).rejects.toThrow(/not valid JSON.*prod\.json\.backup/);
    await writeFile(s.path, JSON.stringify({ version: 99 }));
    await expect(s.read()).rejects.toThrow(/format version 99.*upgrade k3sinfra/);
    await writeFile(s.path, JSON.stringify({ hello: "world" }));
    await expect(s.read()).rejects.toThrow(/not a k3sinfra state/);
  });

  it("remove() deletes the state, backup and lock", async () => {
    const dir = await tempDir();
    const s = await store(dir);
    const first = sampleState();
    await s.write(first);
    await s.write(nextState(first));
    const lock = await s.lock("down");
    await s.remove();
    expect(await readdir(dir)).toEqual([]);
    expect(await s.read()).toBeUndefined();
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("FileStateStore: secrets at rest", () => {
  it("never writes the secret values in plaintext, in the state or its backup", async () => {
    const s = await store(await tempDir());
    const first = sampleState();
    await s.write(first);
    await s.write(nextState(first));
    for (const path of [s.path, s.backupPath]) {
      const bytes = await readFile(path);
      for (const value of Object.values(SECRETS)) {
        expect(bytes.includes(Buffer.from(value))).toBe(false);
        expect(bytes.includes(Buffer.from(Buffer.from(value).toString("base64").slice(0, 12)))).toBe(false);
      }
    }
    expect((await s.read())?.secrets).toEqual(SECRETS);
  });

  it("fails clearly with a wrong passphrase, without revealing anything", async () => {
    const dir = await tempDir();
    await (await store(dir)).write(sampleState());
    const error = await (await store(dir, "wrong passphrase")).read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateKeyError);
    expect(K3sinfraError.is(error, "StateKey")).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(STATE_PASSPHRASE_ENV);
    expect(message).toMatch(/state\.key/);
    expect(message).toMatch(/key is wrong or the file was modified/);
    for (const value of Object.values(SECRETS)) expect(message).not.toContain(value);
  });

  it("fails clearly when the ciphertext, tag or lineage was tampered with", async () => {
    const s = await store(await tempDir());
    await s.write(sampleState());
    const original = JSON.parse(await readFile(s.path, "utf8"));
    const flip = (b64: string) => {
      const bytes = Buffer.from(b64, "base64");
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return bytes.toString("base64");
    };
    const tampered = [
      { ...original, secrets: { ...original.secrets, data: flip(original.secrets.data) } },
      { ...original, secrets: { ...original.secrets, tag: flip(original.secrets.tag) } },
      { ...original, secrets: { ...original.secrets, iv: flip(original.secrets.iv) } },
      // The ciphertext is bound to its lineage: secrets moved into another state do not decrypt.
      { ...original, lineage: "00000000-0000-4000-8000-000000000000" },
    ];
    for (const doc of tampered) {
      await writeFile(s.path, JSON.stringify(doc));
      await expect(s.read()).rejects.toThrow(StateKeyError);
    }
    await writeFile(s.path, JSON.stringify(original));
    expect((await s.read())?.secrets).toEqual(SECRETS);
  });

  it("uses a key file created 0600 on first use, shared by later stores", async () => {
    const dir = await tempDir();
    const keyPath = join(dir, "config", "k3sinfra", "state.key");
    const path = join(dir, "prod.json");
    const a = new FileStateStore({ path, keySource: keyFileKeySource(keyPath) });
    await a.write(sampleState());
    expect(await mode(keyPath)).toBe(0o600);
    expect(await mode(join(dir, "config", "k3sinfra"))).toBe(0o700);
    expect(Buffer.from((await readFile(keyPath, "utf8")).trim(), "base64")).toHaveLength(32);
    expect(JSON.parse(await readFile(path, "utf8")).secrets).toMatchObject({ key: "keyFile" });
    const b = new FileStateStore({ path, keySource: keyFileKeySource(keyPath) });
    expect((await b.read())?.secrets).toEqual(SECRETS);
  });

  it("two first runs racing to create the key file agree on one key", async () => {
    const dir = await tempDir();
    const keyPath = join(dir, "state.key");
    const a = new FileStateStore({ path: join(dir, "a.json"), keySource: keyFileKeySource(keyPath) });
    const b = new FileStateStore({ path: join(dir, "b.json"), keySource: keyFileKeySource(keyPath) });
    await Promise.all([a.write(sampleState("a")), b.write(sampleState("b"))]);
    const fresh = (p: string) =>
      new FileStateStore({ path: join(dir, p), keySource: keyFileKeySource(keyPath) });
    expect((await fresh("a.json").read())?.secrets).toEqual(SECRETS);
    expect((await fresh("b.json").read())?.secrets).toEqual(SECRETS);
  });

  it("fails clearly with another key file, a missing one, or the wrong kind of key", async () => {
    const dir = await tempDir();
    const path = join(dir, "prod.json");
    const keyPath = join(dir, "state.key");
    await new FileStateStore({ path, keySource: keyFileKeySource(keyPath) }).write(sampleState());
    const other = join(dir, "other.key");
    await writeFile(other, `${Buffer.alloc(32, 7).toString("base64")}\n`);
    const wrong = new FileStateStore({ path, keySource: keyFileKeySource(other) });
    await expect(wrong.read()).rejects.toThrow(new RegExp(`key file ${other}.*${STATE_PASSPHRASE_ENV}`));
    const missing = new FileStateStore({ path, keySource: keyFileKeySource(join(dir, "gone.key")) });
    await expect(missing.read()).rejects.toThrow(/gone\.key, which does not exist/);
    const passphrase = new FileStateStore({ path, keySource: passphraseKeySource("pw") });
    await expect(passphrase.read()).rejects.toThrow(/encrypted with a key file.*unset it/);
    await writeFile(keyPath, "not a key\n");
    const bad = new FileStateStore({ path, keySource: keyFileKeySource(keyPath) });
    await expect(bad.read()).rejects.toThrow(/does not hold a 32-byte base64 key/);
  });

  it("picks the passphrase from the environment, else the XDG key file", () => {
    const fromEnv = defaultKeySource({ [STATE_PASSPHRASE_ENV]: "pw", XDG_CONFIG_HOME: "/cfg" });
    expect(fromEnv.kind).toBe("passphrase");
    // The passphrase is wrapped so printing the options never shows it.
    expect(JSON.stringify(fromEnv)).not.toContain('"pw"');
    expect(defaultKeySource({ XDG_CONFIG_HOME: "/cfg" })).toEqual({
      kind: "keyFile",
      path: "/cfg/k3sinfra/state.key",
    });
    const home = defaultKeySource({});
    expect(home.kind === "keyFile" && home.path.endsWith("/.config/k3sinfra/state.key")).toBe(true);
  });
});

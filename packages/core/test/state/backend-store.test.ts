import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { InvalidConfigError, LockHeldError } from "../../src/errors.js";
import {
  BackendStateStore,
  type KeyWrapper,
  MemoryStateBackend,
  nextState,
  openStateStore,
  passphraseKeySource,
  StateConflictError,
  StateKeyError,
  wrappedKeySource,
} from "../../src/state/index.js";
import { memoryConfig } from "../helpers.js";
import { SECRETS, sampleState } from "./fixtures.js";

const store = (backend: MemoryStateBackend, passphrase = "correct horse") =>
  new BackendStateStore({ backend, cluster: "prod", keySource: passphraseKeySource(passphrase) });

/** A key wrapper that holds its key in this process (AES-GCM), standing in for a key service. */
function localWrapper(keyId: string, master = randomBytes(32)): KeyWrapper {
  const aad = (context: Readonly<Record<string, string>>) => Buffer.from(JSON.stringify(context));
  return {
    name: "test-kms",
    keyId,
    async generate(context) {
      const plaintext = randomBytes(32);
      const iv = randomBytes(12);
      const c = createCipheriv("aes-256-gcm", master, iv).setAAD(aad(context));
      const data = Buffer.concat([c.update(plaintext), c.final()]);
      return { plaintext, wrapped: Buffer.concat([iv, c.getAuthTag(), data]).toString("base64") };
    },
    async unwrap(wrapped, context) {
      const b = Buffer.from(wrapped, "base64");
      try {
        const d = createDecipheriv("aes-256-gcm", master, b.subarray(0, 12)).setAAD(aad(context));
        d.setAuthTag(b.subarray(12, 28));
        return Buffer.concat([d.update(b.subarray(28)), d.final()]);
      } catch (cause) {
        throw new StateKeyError(`key ${keyId} cannot unwrap this data key`, { cause });
      }
    },
  };
}

describe("BackendStateStore on a StateBackend", () => {
  it("round-trips a state with its secrets sealed in the stored bytes", async () => {
    const backend = new MemoryStateBackend();
    const s = store(backend);
    await s.write(sampleState());
    const bytes = Buffer.from((await backend.read())!.bytes).toString("utf8");
    expect(bytes).not.toContain(SECRETS.k3sToken);
    expect(JSON.parse(bytes).secrets.key).toBe("passphrase");
    expect((await store(backend.connect()).read())?.secrets).toEqual(SECRETS);
    expect(
      await store(backend.connect(), "wrong")
        .read()
        .catch((e: unknown) => e),
    ).toBeInstanceOf(StateKeyError);
  });

  it("refuses a write when the stored version changed after it was read (no newer state overwritten)", async () => {
    const backend = new MemoryStateBackend();
    await store(backend).write(sampleState());
    const first = (await store(backend).read())!;
    // A writer that checked lineage and serial, then lost the race: its conditional write must fail.
    const slow = new BackendStateStore({
      backend: {
        location: backend.location,
        remote: true,
        lock: backend.lock,
        read: () => backend.read(),
        delete: () => backend.delete(),
        write: async (bytes, expected) => {
          await store(backend.connect()).write(nextState(first, { hostname: "other.example.com" }));
          return backend.write(bytes, expected);
        },
      },
      cluster: "prod",
      keySource: passphraseKeySource("correct horse"),
    });
    await expect(slow.write(nextState(first))).rejects.toBeInstanceOf(StateConflictError);
    const now = (await store(backend).read())!;
    expect(now.hostname).toBe("other.example.com");
    expect(backend.history.map((v) => JSON.parse(Buffer.from(v.bytes).toString()).serial)).toEqual([
      first.serial,
      first.serial + 1,
    ]);
  });

  it("refuses a second lock naming the holder, and takes over an expired lease with a notice", async () => {
    const backend = new MemoryStateBackend();
    let at = Date.parse("2026-01-01T00:00:00Z");
    const notices: string[] = [];
    const a = new BackendStateStore({ backend, owner: "alice@ci", leaseMs: 1000, now: () => at });
    const b = new BackendStateStore({
      backend: backend.connect(),
      owner: "bob@laptop",
      leaseMs: 1000,
      now: () => at,
      onWarning: (m) => notices.push(m),
    });
    const held = await a.lock("up");
    const refused = await b.lock("up").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LockHeldError);
    expect(String((refused as Error).message)).toContain("alice@ci");
    held.signal?.throwIfAborted();
    at += 1001;
    const taken = await b.lock("up");
    expect(taken.takenOver?.reason).toBe("expired");
    expect(notices[0]).toContain("alice@ci");
    await taken.release();
    await held.release();
  });

  it("refuses the machine-local key file for remote state, with the reason", async () => {
    const remote = new BackendStateStore({ backend: new MemoryStateBackend(), cluster: "prod" });
    const saved = process.env.K3SINFRA_STATE_PASSPHRASE;
    delete process.env.K3SINFRA_STATE_PASSPHRASE;
    try {
      const error = await remote.write(sampleState()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StateKeyError);
      expect((error as Error).message).toMatch(/exists on this machine only.*K3SINFRA_STATE_PASSPHRASE/);
    } finally {
      if (saved !== undefined) process.env.K3SINFRA_STATE_PASSPHRASE = saved;
    }
  });

  it("wraps the data key with a key wrapper; another key cannot open it and the state is unchanged", async () => {
    const backend = new MemoryStateBackend();
    const wrapper = localWrapper("key-1");
    const s = new BackendStateStore({ backend, keySource: wrappedKeySource(wrapper) });
    await s.write(sampleState());
    const doc = JSON.parse(Buffer.from((await backend.read())!.bytes).toString());
    expect(doc.secrets).toMatchObject({ key: "wrapped", wrapped: { by: "test-kms", keyId: "key-1" } });
    const reader = new BackendStateStore({
      backend: backend.connect(),
      keySource: wrappedKeySource(wrapper),
    });
    expect((await reader.read())?.secrets).toEqual(SECRETS);
    const other = new BackendStateStore({
      backend: backend.connect(),
      keySource: wrappedKeySource(localWrapper("key-2")),
    });
    await expect(other.read()).rejects.toBeInstanceOf(StateKeyError);
    const passphrase = await store(backend.connect())
      .read()
      .catch((e: unknown) => e);
    expect((passphrase as Error).message).toMatch(/encrypted with a managed key.*test-kms key key-1/);
    expect(backend.history).toHaveLength(1);
  });
});

describe("state: block and openStateStore", () => {
  it("rejects options the local backend does not take, naming the path", () => {
    const { issues } = parseConfig({ ...memoryConfig(), state: { bucket: "b" } });
    expect(issues.find((i) => i.path === "state.bucket")?.message).toMatch(/not an option of the local/);
  });

  it("names state.backend when no provider offers the backend", async () => {
    const { config } = parseConfig({ ...memoryConfig(), state: { backend: "tape", reel: 1 } });
    const error = await openStateStore({ config, providers: [], baseDir: "/tmp" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).issues[0]).toMatchObject({ path: "state.backend" });
  });

  it("builds a provider's backend from its block, with its issues under state.", async () => {
    const backend = new MemoryStateBackend({ location: "tape://reel-1" });
    const provider = {
      name: "tapes",
      stateBackends: {
        tape: {
          parse: (raw: Readonly<Record<string, unknown>>) =>
            typeof raw.reel === "string"
              ? { ok: true as const, value: raw.reel }
              : { ok: false as const, issues: [{ path: "reel", message: "is required" }] },
          create: () => backend,
        },
      },
    } as never;
    const bad = parseConfig({ ...memoryConfig(), state: { backend: "tape" } }).config;
    const error = await openStateStore({ config: bad, providers: [provider], baseDir: "/tmp" }).catch(
      (e: unknown) => e,
    );
    expect((error as InvalidConfigError).issues).toEqual([{ path: "state.reel", message: "is required" }]);
    const good = parseConfig({ ...memoryConfig(), state: { backend: "tape", reel: "1" } }).config;
    const opened = await openStateStore({ config: good, providers: [provider], baseDir: "/tmp" });
    expect(opened.location).toBe("tape://reel-1");
    expect(opened.store).toBeInstanceOf(BackendStateStore);
  });
});

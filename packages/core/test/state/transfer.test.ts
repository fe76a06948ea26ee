import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LockHeldError } from "../../src/errors.js";
import {
  BackendStateStore,
  FileStateStore,
  listStates,
  MemoryStateBackend,
  migrateState,
  type OpenedStateStore,
  passphraseKeySource,
  pullState,
  StateConflictError,
  StateKeyError,
} from "../../src/state/index.js";
import { SECRETS, sampleState, tempDir } from "./fixtures.js";

const local = (path: string, passphrase = "local pw"): OpenedStateStore => ({
  store: new FileStateStore({ path, cluster: "prod", keySource: passphraseKeySource(passphrase) }),
  name: "local",
  location: path,
});

const remote = (backend: MemoryStateBackend, passphrase = "team pw", owner?: string): OpenedStateStore => ({
  store: new BackendStateStore({
    backend,
    cluster: "prod",
    keySource: passphraseKeySource(passphrase),
    ...(owner ? { owner } : {}),
  }),
  name: "tape",
  location: backend.location,
  backend,
});

describe("migrateState, pullState, listStates", () => {
  it("moves a state there and back with the same secrets, re-sealed with each side's key", async () => {
    const dir = await tempDir();
    const path = join(dir, "prod.state.json");
    await local(path).store.write(sampleState());
    const backend = new MemoryStateBackend({ location: "tape://prod" });
    const there = await migrateState(local(path), remote(backend));
    expect(there).toEqual({ cluster: "prod", serial: 1, from: path, to: "tape://prod" });
    await expect(readFile(path)).rejects.toThrow();
    expect((await remote(backend.connect()).store.read())?.secrets).toEqual(SECRETS);
    expect(await backend.lock.read()).toBeUndefined();
    await migrateState(remote(backend), local(path, "new local pw"));
    expect((await local(path, "new local pw").store.read())?.secrets).toEqual(SECRETS);
    expect(await backend.read()).toBeUndefined();
  });

  it("changes nothing when the source cannot be decrypted, the destination is held, or already has a state", async () => {
    const dir = await tempDir();
    const path = join(dir, "prod.state.json");
    await local(path).store.write(sampleState());
    const before = await readFile(path, "utf8");
    const backend = new MemoryStateBackend();
    await expect(migrateState(local(path, "wrong"), remote(backend))).rejects.toBeInstanceOf(StateKeyError);
    const held = await remote(backend.connect(), "team pw", "ci@runner").store.lock("up");
    const refused = await migrateState(local(path), remote(backend)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LockHeldError);
    expect((refused as Error).message).toContain("ci@runner");
    await held.release();
    await remote(backend).store.write({ ...sampleState(), lineage: "another" });
    await expect(migrateState(local(path), remote(backend))).rejects.toBeInstanceOf(StateConflictError);
    expect(await readFile(path, "utf8")).toBe(before);
    expect(backend.history).toHaveLength(1);
  });

  it("pulls a state with its secrets masked and lists the states in its folder", async () => {
    const dir = await tempDir();
    for (const name of ["prod", "staging"]) {
      const path = join(dir, `${name}.state.json`);
      await local(path).store.write(sampleState(name));
    }
    const pulled = await pullState(local(join(dir, "prod.state.json"), "not needed"));
    expect(pulled).toMatchObject({
      cluster: "prod",
      secrets: { sealedWith: "passphrase", values: "********" },
    });
    expect(JSON.stringify(pulled)).not.toContain(SECRETS.k3sToken);
    expect(JSON.stringify(pulled)).not.toMatch(/"data"|"iv"/);
    expect(await listStates(local(join(dir, "prod.state.json")))).toEqual(["prod", "staging"]);
  });
});

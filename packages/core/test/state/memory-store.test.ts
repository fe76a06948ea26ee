import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { LockHeldError, NotFoundError } from "../../src/errors.js";
import { MemoryStateStore, nextState, StateConflictError } from "../../src/state/index.js";
import { SECRETS, sampleState } from "./fixtures.js";

const LEASE = 60_000;

function store(clock = { t: Date.parse("2026-03-01T12:00:00.000Z") }) {
  const warnings: string[] = [];
  const s = new MemoryStateStore({
    cluster: "prod",
    owner: "a",
    leaseMs: LEASE,
    now: () => clock.t,
    onWarning: (m) => warnings.push(m),
  });
  return { s, warnings, clock };
}

describe("MemoryStateStore", () => {
  it("round-trips deep copies, so callers cannot change what is stored", async () => {
    const { s } = store();
    expect(await s.read()).toBeUndefined();
    const state = sampleState();
    await s.write(state);
    const read = await s.read();
    expect(read).toEqual(state);
    (read?.resources["node-1"]?.inputs as Record<string, string>).size = "changed";
    (state.journal as unknown[]).length = 0;
    expect((await s.read())?.resources["node-1"]?.inputs.size).toBe("h1");
    expect((await s.read())?.journal).toHaveLength(1);
  });

  it("applies the same serial and lineage checks as the file store", async () => {
    const { s } = store();
    const first = sampleState();
    await s.write(first);
    await expect(s.write(first)).rejects.toThrow(StateConflictError);
    await expect(s.write(sampleState())).rejects.toThrow(/different state/);
    await s.write(nextState(first));
    expect((await s.read())?.serial).toBe(2);
  });

  it("never prints or serializes the secrets", async () => {
    const { s } = store();
    await s.write(sampleState());
    for (const text of [JSON.stringify(s), inspect(s, { depth: 10 })]) {
      for (const value of Object.values(SECRETS)) expect(text).not.toContain(value);
      expect(text).toContain("rancher.example.com");
    }
    expect((await s.read())?.secrets).toEqual(SECRETS);
  });

  it("locks across handles, with takeover of expired leases, force-unlock and idempotent release", async () => {
    const { s, clock } = store();
    const other = s.connect({ owner: "root@ci pid 9" });
    const held = await other.lock("up");
    await expect(s.lock("down")).rejects.toThrow(
      new RegExp(`locked by root@ci pid 9 \\(up, since .*k3sinfra force-unlock ${held.info.id}$`),
    );
    await expect(s.lock("down")).rejects.toThrow(LockHeldError);
    await expect(s.remove()).rejects.toThrow(LockHeldError);
    await expect(s.forceUnlock("wrong")).rejects.toThrow(/nothing was removed/);

    clock.t += LEASE + 1;
    const { warnings } = store(clock);
    const taker = s.connect({ onWarning: (m) => warnings.push(m) });
    const mine = await taker.lock("down");
    expect(warnings[0]).toMatch(/took over the lock of root@ci pid 9/);
    await held.release();
    expect((await s.lockInfo())?.id).toBe(mine.info.id);

    await s.forceUnlock(mine.info.id);
    await expect(s.forceUnlock(mine.info.id)).rejects.toThrow(NotFoundError);
    await mine.release();
    await mine.release();
    expect(await s.lockInfo()).toBeUndefined();
  });

  it("remove() clears state and lock held by this handle", async () => {
    const { s } = store();
    await s.write(sampleState());
    const lock = await s.lock("down");
    await s.remove();
    expect(await s.read()).toBeUndefined();
    expect(await s.lockInfo()).toBeUndefined();
    await lock.release();
    expect(await s.lockInfo()).toBeUndefined();
  });
});

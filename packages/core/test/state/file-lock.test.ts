import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { AbortedError, K3sinfraError, LockHeldError, NotFoundError } from "../../src/errors.js";
import { FileStateStore, type FileStateStoreOptions, passphraseKeySource } from "../../src/state/index.js";
import type { LockInfo } from "../../src/state/types.js";
import { tempDir } from "./fixtures.js";

const LEASE = 60_000;

/** A store over `dir/prod.json` with a settable clock and collected warnings. */
function store(dir: string, options: Partial<FileStateStoreOptions> & { clock?: { t: number } } = {}) {
  const warnings: string[] = [];
  const clock = options.clock ?? { t: Date.parse("2026-03-01T12:00:00.000Z") };
  const s = new FileStateStore({
    path: join(dir, "prod.json"),
    cluster: "prod",
    keySource: passphraseKeySource("pw"),
    leaseMs: LEASE,
    now: () => clock.t,
    onWarning: (m) => warnings.push(m),
    ...options,
  });
  return { s, warnings, clock };
}

/** Runs a plain Node process that writes a lock file with fs only, as another k3sinfra process would. */
function lockFromChild(lockPath: string, info: LockInfo): Promise<void> {
  const script = `
    import { openSync, writeSync, closeSync } from "node:fs";
    const fd = openSync(process.argv[1], "wx", 0o600);
    writeSync(fd, process.argv[2]);
    closeSync(fd);
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--input-type=module", "-e", script, lockPath, JSON.stringify(info)],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`child failed (${code}): ${stderr}`)),
    );
  });
}

describe("FileStateStore: lock", () => {
  it("writes a 0600 lock file with the holder, and releases it idempotently", async () => {
    const dir = await tempDir();
    const { s, clock } = store(dir, { owner: "alice@laptop pid 42" });
    const lock = await s.lock("up");
    expect((await (await stat(s.lockPath)).mode) & 0o777).toBe(0o600);
    expect(lock.info).toMatchObject({
      owner: "alice@laptop pid 42",
      operation: "up",
      acquiredAt: new Date(clock.t).toISOString(),
      expiresAt: new Date(clock.t + LEASE).toISOString(),
    });
    expect(await s.lockInfo()).toEqual(lock.info);
    expect(JSON.parse(await readFile(s.lockPath, "utf8"))).toEqual(lock.info);
    await lock.release();
    await lock.release();
    expect(lock.held).toBe(false);
    // A normal release is not a loss.
    expect(lock.signal.aborted).toBe(false);
    expect(await s.lockInfo()).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
    // Free again after release.
    await (await s.lock("down")).release();
  });

  it("refuses a second lock with the holder and the force-unlock command", async () => {
    const dir = await tempDir();
    const { s: a } = store(dir, { owner: "root@ci-1 pid 123" });
    const { s: b } = store(dir, { owner: "bob@desk pid 7" });
    const held = await a.lock("up");
    const error = await b.lock("down").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    expect(K3sinfraError.is(error, "LockHeld")).toBe(true);
    expect((error as Error).message).toBe(
      `State for cluster prod is locked by root@ci-1 pid 123 (up, since ${held.info.acquiredAt}; lease until ${held.info.expiresAt}). Wait for it to finish, or if that process is gone run: k3sinfra force-unlock ${held.info.id}`,
    );
    // The same instance cannot take it twice either.
    await expect(a.lock("up")).rejects.toThrow(LockHeldError);
    expect((await a.lockInfo())?.id).toBe(held.info.id);
    await held.release();
  });

  it("lets exactly one of many concurrent lockers win", async () => {
    const dir = await tempDir();
    const stores = Array.from({ length: 6 }, (_, i) => store(dir, { owner: `p${i}` }).s);
    const results = await Promise.allSettled(stores.map((s) => s.lock("up")));
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(LockHeldError);
    if (won[0]?.status === "fulfilled") await won[0].value.release();
  });

  it("is refused while another process holds a live lock file", async () => {
    const dir = await tempDir();
    const { s, clock } = store(dir);
    const info: LockInfo = {
      id: randomUUID(),
      owner: "root@other-host pid 999",
      operation: "up",
      acquiredAt: new Date(clock.t).toISOString(),
      expiresAt: new Date(clock.t + LEASE).toISOString(),
    };
    await lockFromChild(s.lockPath, info);
    await expect(s.lock("up")).rejects.toThrow(/locked by root@other-host pid 999 \(up, since/);
    await expect(s.lock("up")).rejects.toThrow(`k3sinfra force-unlock ${info.id}`);
    expect(await s.lockInfo()).toEqual(info);
    await expect(s.remove()).rejects.toThrow(LockHeldError);
  });

  it("takes over an expired lease with a warning; the old holder then knows it lost the lock", async () => {
    const dir = await tempDir();
    const clock = { t: Date.parse("2026-03-01T12:00:00.000Z") };
    const old = store(dir, { owner: "crashed pid 1", clock });
    const oldLock = await old.s.lock("up");
    clock.t += LEASE + 1;
    const next = store(dir, { owner: "new pid 2", clock });
    const lock = await next.s.lock("up");
    expect(next.warnings).toHaveLength(1);
    expect(next.warnings[0]).toMatch(
      /took over the lock of crashed pid 1 \(up, since .*\), whose lease expired/,
    );
    expect((await next.s.lockInfo())?.id).toBe(lock.info.id);
    // The old holder's renewal finds someone else's lock: it stops and warns, and its release leaves it alone.
    expect(oldLock.held).toBe(true);
    expect(await oldLock.renew()).toBe(false);
    expect(old.warnings.join()).toMatch(/was lost/);
    expect(oldLock.held).toBe(false);
    expect(oldLock.signal.aborted).toBe(true);
    expect(oldLock.signal.reason).toBeInstanceOf(AbortedError);
    expect(lock.signal.aborted).toBe(false);
    await oldLock.release();
    expect((await next.s.lockInfo())?.id).toBe(lock.info.id);
    await lock.release();
  });

  it("does not take over a lease that is still live, even if old", async () => {
    const dir = await tempDir();
    const clock = { t: Date.parse("2026-03-01T12:00:00.000Z") };
    const a = store(dir, { clock });
    await a.s.lock("up");
    clock.t += LEASE - 1;
    await expect(store(dir, { clock }).s.lock("up")).rejects.toThrow(LockHeldError);
  });

  it("forceUnlock removes the lock only when the id matches", async () => {
    const dir = await tempDir();
    const holder = store(dir, { owner: "root@ci-1 pid 123" });
    const lock = await holder.s.lock("up");
    const { s } = store(dir);
    await expect(s.forceUnlock("not-the-id")).rejects.toThrow(
      new RegExp(
        `lock id is ${lock.info.id} \\(held by root@ci-1 pid 123, up\\), not not-the-id; nothing was removed`,
      ),
    );
    expect((await s.lockInfo())?.id).toBe(lock.info.id);
    await s.forceUnlock(lock.info.id);
    expect(await s.lockInfo()).toBeUndefined();
    await expect(s.forceUnlock(lock.info.id)).rejects.toThrow(NotFoundError);
    // Someone else may now lock; the old holder's release must not remove that new lock.
    const other = await s.lock("down");
    await lock.release();
    expect((await s.lockInfo())?.id).toBe(other.info.id);
    await other.release();
  });

  it("renews the lease: on demand and in the background", async () => {
    const dir = await tempDir();
    const clock = { t: Date.parse("2026-03-01T12:00:00.000Z") };
    const { s } = store(dir, { clock, renewMs: 5 });
    const lock = await s.lock("up");
    const acquiredAt = lock.info.acquiredAt;
    clock.t += 1_000;
    // Whichever renewal runs (timer or this call), the stored lease now ends LEASE after the new time.
    await vi.waitFor(async () => {
      expect((await s.lockInfo())?.expiresAt).toBe(new Date(clock.t + LEASE).toISOString());
    });
    clock.t += 1_000;
    expect(await lock.renew()).toBe(true);
    expect(lock.info.expiresAt).toBe(new Date(clock.t + LEASE).toISOString());
    expect(await s.lockInfo()).toEqual({ ...lock.info, acquiredAt });
    // A renewed lease keeps others out past the original expiry.
    const later = { t: Date.parse(acquiredAt) + LEASE + 500 };
    await expect(store(dir, { clock: later }).s.lock("up")).rejects.toThrow(LockHeldError);
    await lock.release();
    expect(await lock.renew()).toBe(false);
    expect(await s.lockInfo()).toBeUndefined();
  });

  it("reports an unreadable lock file instead of guessing", async () => {
    const dir = await tempDir();
    const { s } = store(dir);
    await lockFromChild(s.lockPath, {} as LockInfo);
    await expect(s.lock("up")).rejects.toThrow(/lock file .*prod\.json\.lock is unreadable/);
  });
});

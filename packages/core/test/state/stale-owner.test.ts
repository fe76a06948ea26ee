import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LockHeldError } from "../../src/errors.js";
import {
  currentProcess,
  FileStateStore,
  ownerGone,
  passphraseKeySource,
  procStat,
} from "../../src/state/index.js";
import type { LockInfo } from "../../src/state/types.js";
import { tempDir } from "./fixtures.js";

const LEASE = 60_000;
const linux = process.platform === "linux";
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/** A Node process that idles until killed: a live lock holder on this host. */
async function idler(): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  children.push(child);
  await new Promise((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  return child as ChildProcess & { pid: number };
}

/** How a k3sinfra run in `child` would have recorded itself in the lock (its start time from /proc on Linux). */
function identityOf(pid: number): Pick<LockInfo, "host" | "pid" | "processStart"> {
  const self = currentProcess();
  const start = procStat(pid)?.start;
  const scope = self.processStart?.slice(0, self.processStart.lastIndexOf("/"));
  return { host: self.host, pid, ...(scope && start ? { processStart: `${scope}/${start}` } : {}) };
}

/** A store over `dir/prod.json` with a settable clock, and a lock file as another process left it (if any). */
async function setup(holder: Partial<LockInfo> | undefined) {
  const dir = await tempDir();
  const path = join(dir, "prod.json");
  const clock = { t: Date.parse("2026-03-01T12:00:00.000Z") };
  const previous: LockInfo = {
    id: randomUUID(),
    owner: `alice@${holder?.host ?? "somewhere"} pid ${holder?.pid ?? 1}`,
    operation: "up",
    acquiredAt: new Date(clock.t).toISOString(),
    expiresAt: new Date(clock.t + LEASE).toISOString(),
    ...holder,
  };
  if (holder) await writeFile(`${path}.lock`, JSON.stringify(previous), { mode: 0o600 });
  const warnings: string[] = [];
  const store = new FileStateStore({
    path,
    cluster: "prod",
    keySource: passphraseKeySource("pw"),
    leaseMs: LEASE,
    now: () => clock.t,
    onWarning: (m) => warnings.push(m),
  });
  return { store, previous, warnings, clock, lockPath: `${path}.lock` };
}

describe("FileStateStore: a lock whose holder is gone", () => {
  it("records this process's host, pid and start in the lock file", async () => {
    const { store, lockPath } = await setup(undefined);
    const lock = await store.lock("up");
    const onDisk = JSON.parse(await readFile(lockPath, "utf8")) as LockInfo;
    expect(onDisk).toMatchObject({ host: hostname(), pid: process.pid });
    if (linux) expect(onDisk.processStart).toMatch(/^[\w-]+\/\d+\/\d+$/);
    expect(lock.takenOver).toBeUndefined();
    await lock.release();
  });

  it("takes over, with a notice, a live lease whose process on this host has exited", async () => {
    const child = await idler();
    const holder = identityOf(child.pid);
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const { store, previous, warnings, lockPath } = await setup(holder);

    const lock = await store.lock("up");
    expect(lock.takenOver).toEqual({
      previous,
      reason: "owner-gone",
      message: `State for cluster prod: took over the lock of ${previous.owner} (up, since ${previous.acquiredAt}), because its process (pid ${child.pid}) is no longer running.`,
    });
    expect(warnings).toEqual([lock.takenOver?.message]);
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({
      id: lock.info.id,
      pid: process.pid,
    });
    await lock.release();
  });

  it.runIf(linux)(
    "takes over a lock whose pid now belongs to a process that started at another time",
    async () => {
      const child = await idler();
      const real = identityOf(child.pid);
      const { store, warnings } = await setup({ ...real, processStart: `${real.processStart}0` });

      const lock = await store.lock("up");
      expect(lock.takenOver?.reason).toBe("owner-gone");
      expect(warnings[0]).toContain(
        `pid ${child.pid}) is no longer running; that pid now belongs to another process`,
      );
      await lock.release();
    },
  );

  it("refuses a lock whose holder on this host still runs, until its lease expires", async () => {
    const child = await idler();
    const { store, previous, clock } = await setup(identityOf(child.pid));

    await expect(store.lock("up")).rejects.toThrow(LockHeldError);
    await expect(store.lock("up")).rejects.toThrow(`k3sinfra force-unlock ${previous.id}`);
    // Past its lease the holder counts as hung, as before.
    clock.t += LEASE + 1;
    const lock = await store.lock("up");
    expect(lock.takenOver?.reason).toBe("expired");
    await lock.release();
  });

  it("refuses a lock from another host, whose process cannot be checked from here, until its lease expires", async () => {
    const child = await idler();
    const dead = identityOf(child.pid);
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const { store, clock, warnings } = await setup({ ...dead, host: `not-${hostname()}` });

    await expect(store.lock("up")).rejects.toThrow(LockHeldError);
    clock.t += LEASE + 1;
    const lock = await store.lock("up");
    expect(lock.takenOver?.reason).toBe("expired");
    expect(warnings[0]).toMatch(/whose lease expired at/);
    await lock.release();
  });

  it.runIf(linux)(
    "refuses a lock from the same host name in another boot or pid namespace (another container)",
    async () => {
      const child = await idler();
      const dead = identityOf(child.pid);
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      const start = dead.processStart?.split("/") ?? [];
      for (const processStart of [`other-boot/${start[1]}/${start[2]}`, `${start[0]}/1/${start[2]}`]) {
        const { store } = await setup({ ...dead, processStart });
        await expect(store.lock("up")).rejects.toThrow(LockHeldError);
      }
    },
  );

  it("refuses a live lease that does not say which process holds it (older locks, other stores)", async () => {
    const { store } = await setup({});
    await expect(store.lock("up")).rejects.toThrow(LockHeldError);
  });
});

describe("ownerGone", () => {
  it("without /proc start times, goes by whether the pid exists", async () => {
    const child = await idler();
    const self = { host: "h", pid: process.pid };
    const info = { id: "x", owner: "o", operation: "up", acquiredAt: "", expiresAt: "", host: "h" };
    expect(ownerGone({ ...info, pid: child.pid }, self)).toBeUndefined();
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    expect(ownerGone({ ...info, pid: child.pid }, self)).toBe(
      `its process (pid ${child.pid}) is no longer running`,
    );
    expect(ownerGone({ ...info, host: "other", pid: child.pid }, self)).toBeUndefined();
  });
});

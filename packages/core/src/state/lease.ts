import { randomUUID } from "node:crypto";
import { hostname, userInfo } from "node:os";
import { AbortedError, LockHeldError, NotFoundError } from "../errors.js";
import type { ProcessIdentity } from "./owner.js";
import type { Lock, LockInfo, LockTakeover } from "./types.js";

/** Storage primitives a lock needs; each must be atomic against other processes using the same storage. */
export interface LockBackend {
  /** Creates the lock if none exists; false when one already does. */
  create(info: LockInfo): Promise<boolean>;
  /** The current lock, if any. */
  read(): Promise<LockInfo | undefined>;
  /** Stores `info` only if the current lock still has `info.id`; false when it does not (the lock was lost). */
  renew(info: LockInfo): Promise<boolean>;
  /** Removes the lock only if it has `id`; false when there is none or it has another id. */
  removeIf(id: string): Promise<boolean>;
}

/** How leases are taken and kept. */
export interface LeaseOptions {
  /** Start of lock messages, e.g. `State for cluster prod`. */
  readonly subject: string;
  readonly owner: string;
  readonly leaseMs: number;
  readonly renewMs: number;
  readonly now: () => number;
  readonly onWarning: (message: string) => void;
  /** The holding process, recorded in each lock this manager takes (file stores; absent in memory). */
  readonly identity?: ProcessIdentity;
  /**
   * Why a live lease's holder is certainly gone (its process no longer runs), or undefined when it may still
   * run; such a lock is taken over before its lease expires. Absent: only expired leases are taken over.
   */
  readonly ownerGone?: (info: LockInfo) => string | undefined;
}

/** Default lease: long enough that a busy holder never loses it between renewals. */
export const DEFAULT_LEASE_MS = 5 * 60_000;
/** Default renewal interval. */
export const DEFAULT_RENEW_MS = 60_000;

/** `user@host pid N` for this process. */
export function defaultOwner(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // Containers often run as a uid without a passwd entry.
    user = process.env.USER ?? String(process.getuid?.() ?? "unknown");
  }
  return `${user}@${hostname()} pid ${process.pid}`;
}

/** The `LockHeldError` message: who holds it, since when, and how to force-unlock. */
export function lockHeldMessage(subject: string, info: LockInfo): string {
  return `${subject} is locked by ${info.owner} (${info.operation}, since ${info.acquiredAt}; lease until ${info.expiresAt}). Wait for it to finish, or if that process is gone run: k3sinfra force-unlock ${info.id}`;
}

/** Takes, renews and releases leased locks over a `LockBackend`; shared by the file and memory stores. */
export class LeaseManager {
  readonly #backend: LockBackend;
  readonly #options: LeaseOptions;
  readonly #held = new Map<string, LeasedLock>();

  constructor(backend: LockBackend, options: LeaseOptions) {
    this.#backend = backend;
    this.#options = options;
  }

  /**
   * Takes the lock, or takes over one whose lease expired or whose holder is gone (the returned lock's
   * `takenOver` says which); throws `LockHeldError` while the holder may still be running.
   */
  async acquire(operation: string): Promise<LeasedLock> {
    const { now, leaseMs, subject, identity } = this.#options;
    let takenOver: LockTakeover | undefined;
    // A few rounds only cover a lock vanishing between our failed create and our read of it.
    for (let attempt = 0; attempt < 5; attempt++) {
      const at = now();
      const info: LockInfo = {
        id: randomUUID(),
        owner: this.#options.owner,
        operation,
        acquiredAt: new Date(at).toISOString(),
        expiresAt: new Date(at + leaseMs).toISOString(),
        ...identity,
      };
      if (await this.#backend.create(info)) return this.#track(info, takenOver);
      const current = await this.#backend.read();
      if (current === undefined) continue;
      const expired = Date.parse(current.expiresAt) <= at;
      // A live lease is refused unless its holder is certainly gone (killed or crashed, on this host).
      const gone = expired ? undefined : this.#options.ownerGone?.(current);
      if (!expired && gone === undefined)
        throw new LockHeldError(lockHeldMessage(subject, current), { lock: current });
      // removeIf fails when another run took it over first: then the next round finds that run's lock.
      if (await this.#backend.removeIf(current.id)) {
        const why = gone === undefined ? `whose lease expired at ${current.expiresAt}` : `because ${gone}`;
        takenOver = {
          previous: current,
          reason: gone === undefined ? "expired" : "owner-gone",
          message: `${subject}: took over the lock of ${current.owner} (${current.operation}, since ${current.acquiredAt}), ${why}.`,
        };
        this.#options.onWarning(takenOver.message);
      }
    }
    const current = await this.#backend.read();
    throw new LockHeldError(
      current ? lockHeldMessage(subject, current) : `${subject}: the lock kept changing hands; try again.`,
      current ? { lock: current } : {},
    );
  }

  /** Removes the lock only if its id is `id`. */
  async forceUnlock(id: string): Promise<void> {
    const { subject } = this.#options;
    const current = await this.#backend.read();
    if (current === undefined) throw new NotFoundError(`${subject} is not locked; nothing to unlock.`);
    if (current.id !== id || !(await this.#backend.removeIf(id))) {
      throw new LockHeldError(
        `${subject}: the lock id is ${current.id} (held by ${current.owner}, ${current.operation}), not ${id}; nothing was removed. Check the id in the lock message and try again.`,
        { lock: current },
      );
    }
    this.#held.get(id)?.stop();
  }

  /** True when this manager holds the lock with `id`. */
  holds(id: string): boolean {
    return this.#held.has(id);
  }

  /** Stops renewing every lock this manager holds, so none is written back after the caller removes it. */
  async haltAll(): Promise<void> {
    await Promise.all([...this.#held.values()].map((lock) => lock.halt()));
  }

  #track(info: LockInfo, takenOver: LockTakeover | undefined): LeasedLock {
    const lock = new LeasedLock(
      info,
      this.#backend,
      this.#options,
      () => this.#held.delete(info.id),
      takenOver,
    );
    this.#held.set(info.id, lock);
    return lock;
  }
}

/** A held lock whose lease renews itself in the background until released. */
export class LeasedLock implements Lock {
  #info: LockInfo;
  readonly #backend: LockBackend;
  readonly #options: LeaseOptions;
  readonly #onStop: () => void;
  readonly #timer: NodeJS.Timeout;
  #queue: Promise<boolean> = Promise.resolve(true);
  #pending = 0;
  #stopped = false;
  readonly #lost = new AbortController();
  /** The stale lock this one replaced, if any. */
  readonly takenOver: LockTakeover | undefined;

  constructor(
    info: LockInfo,
    backend: LockBackend,
    options: LeaseOptions,
    onStop: () => void,
    takenOver?: LockTakeover,
  ) {
    this.#info = info;
    this.takenOver = takenOver;
    this.#backend = backend;
    this.#options = options;
    this.#onStop = onStop;
    this.#timer = setInterval(() => this.#tick(), options.renewMs);
    // Renewal must never keep the process alive on its own.
    this.#timer.unref();
  }

  /** The lock as last stored (its expiry moves forward with each renewal). */
  get info(): LockInfo {
    return this.#info;
  }

  /** True until the lock is released or lost. */
  get held(): boolean {
    return !this.#stopped;
  }

  /** Aborts when the lock is lost to a force-unlock or takeover, so a long run can stop changing things. */
  get signal(): AbortSignal {
    return this.#lost.signal;
  }

  /** Extends the lease now; false once the lock is released or was lost to a force-unlock or takeover. */
  renew(): Promise<boolean> {
    // Renewals run one after another, so a slow store never sees an older lease written after a newer one.
    const next = this.#queue.then(() => (this.#stopped ? false : this.#renewOnce()));
    this.#queue = next;
    return next;
  }

  /** Releases the lock; calling it again does nothing. */
  async release(): Promise<void> {
    if (this.#stopped) return;
    await this.halt();
    await this.#backend.removeIf(this.#info.id);
  }

  /** Stops renewing and waits for a renewal in flight, which could otherwise write the lock back later. */
  async halt(): Promise<void> {
    this.stop();
    await this.#queue;
  }

  #tick(): void {
    // Skip a tick while a renewal is still running, so a hung store does not pile renewals up.
    if (this.#pending > 0) return;
    this.#pending++;
    void this.renew().finally(() => {
      this.#pending--;
    });
  }

  /** Stops renewing without touching the stored lock. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#onStop();
  }

  async #renewOnce(): Promise<boolean> {
    const next: LockInfo = {
      ...this.#info,
      expiresAt: new Date(this.#options.now() + this.#options.leaseMs).toISOString(),
    };
    try {
      if (await this.#backend.renew(next)) {
        this.#info = next;
        return true;
      }
    } catch (error) {
      // A transient storage error: keep the lock and try again on the next tick.
      this.#options.onWarning(
        `${this.#options.subject}: could not renew the lock lease (${error instanceof Error ? error.message : String(error)}); retrying.`,
      );
      return false;
    }
    if (this.#stopped) return false;
    this.stop();
    const message = `${this.#options.subject}: lock ${this.#info.id} was lost (force-unlocked or taken over by another process); stop changing this cluster and run the command again.`;
    this.#lost.abort(new AbortedError(message));
    this.#options.onWarning(message);
    return false;
  }
}

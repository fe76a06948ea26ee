/**
 * Emulated time that passes only while every client waits. A sleeper (`sleep`) is woken when the process has
 * been idle for a few event-loop turns in a row — no request in the emulator (it `hold`s the clock while it
 * handles one), no sleeper added, no other hold — and then time jumps straight to the earliest sleeper's
 * deadline. So a 9-minute database costs no wall time, and a test that reads a resource right after creating
 * it always sees it `pending`: a loaded machine slows the run down, never the emulated cloud relative to it.
 *
 * It has the shape of core's `Clock` (`now`, `sleep`): hand the same object to the emulator
 * (`startEmulator({ virtualClock })`) and to core's poll policy (`poll: { …, clock }`), so waits, retries and the
 * emulated resources' state machines all read one time. Time still passes on the wall clock inside a request
 * only as the emulator's handlers compute it (lazily, from `now()`).
 */
export class VirtualClock {
  #now: number;
  #holds = 0;
  /** Bumped by every sleep, hold and release: a turn that saw it change was not idle. */
  #activity = 0;
  #sleepers: { at: number; seq: number; wake: () => void }[] = [];
  #seq = 0;
  #watching = false;
  readonly #idleTurns: number;

  /**
   * @param start epoch ms the clock starts at (default: the wall clock now).
   * @param idleTurns event-loop turns (setImmediate) with nothing happening before time may jump; enough for a
   *   request written on one turn to be read by the emulator on the next ones (default 8).
   */
  constructor(options: { start?: number; idleTurns?: number } = {}) {
    this.#now = options.start ?? Date.now();
    this.#idleTurns = options.idleTurns ?? 8;
  }

  /** Milliseconds since the epoch, by this clock. */
  readonly now = (): number => this.#now;

  /** Resolves once `ms` of emulated time have passed. */
  readonly sleep = (ms: number): Promise<void> =>
    new Promise((wake) => {
      this.#sleepers.push({ at: this.#now + Math.max(0, ms), seq: this.#seq++, wake });
      this.#activity++;
      this.#watch();
    });

  /** Stops time from jumping until the returned function is called (the emulator holds it per request). */
  hold(): () => void {
    this.#holds++;
    this.#activity++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.#activity++;
      this.#watch();
    };
  }

  /** Moves time forward by `ms` at once, waking every sleeper that is due (in deadline order). */
  advance(ms: number): void {
    this.#wakeUntil(this.#now + ms);
  }

  /** Sleepers not yet woken (diagnostics). */
  get pending(): number {
    return this.#sleepers.length;
  }

  #wakeUntil(target: number): void {
    this.#sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    while (this.#sleepers.length > 0 && this.#sleepers[0]!.at <= target) {
      const next = this.#sleepers.shift()!;
      this.#now = Math.max(this.#now, next.at);
      next.wake();
    }
    this.#now = Math.max(this.#now, target);
  }

  /** Watches the event loop while there are sleepers; jumps once it has been idle for `idleTurns` turns. */
  #watch(): void {
    if (this.#watching || this.#sleepers.length === 0) return;
    this.#watching = true;
    let seen = this.#activity;
    let idle = 0;
    const turn = () => {
      if (this.#sleepers.length === 0) {
        this.#watching = false;
        return;
      }
      if (this.#holds > 0 || this.#activity !== seen) {
        seen = this.#activity;
        idle = 0;
      } else if (++idle >= this.#idleTurns) {
        idle = 0;
        // Everyone waits: the earliest sleepers' time has come (all of those due at that instant wake together).
        this.#sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        this.#wakeUntil(this.#sleepers[0]!.at);
        seen = this.#activity;
      }
      // Kept referenced: a sleeper is always woken (time jumps when idle), and until then it is work to do.
      setImmediate(turn);
    };
    setImmediate(turn);
  }
}

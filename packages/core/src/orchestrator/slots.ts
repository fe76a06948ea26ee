import { AsyncLocalStorage } from "node:async_hooks";
import { AbortedError } from "../errors.js";

interface Waiter {
  readonly priority: number;
  readonly seq: number;
  readonly grant: () => void;
}

/**
 * At most `size` cloud API calls at once, across every resource of a command (the `parallelism` option). A
 * provider's call wrapper takes a slot for each attempt (`ResourceContext.limit`), so a resource that is only
 * waiting — between polls, or in a retry's backoff — holds none. When calls queue, the one whose resource has
 * the longest remaining path goes first (ties in arrival order), so the critical path is never stuck behind
 * work that can wait. A call made while its caller already holds a slot (a provider nesting calls) runs at
 * once rather than deadlock.
 */
export class ApiSlots {
  readonly size: number;
  #free: number;
  #seq = 0;
  readonly #queue: Waiter[] = [];
  readonly #held = new AsyncLocalStorage<ApiSlots>();

  constructor(size: number) {
    this.size = Math.max(1, Math.floor(size));
    this.#free = this.size;
  }

  /** Calls in flight. */
  get busy(): number {
    return this.size - this.#free;
  }

  /** Runs `fn` holding one slot; `priority` orders the queue (higher first), `signal` gives up waiting. */
  async run<T>(fn: () => Promise<T>, priority = 0, signal?: AbortSignal): Promise<T> {
    if (this.#held.getStore() === this) return fn();
    await this.#acquire(priority, signal);
    try {
      return await this.#held.run(this, fn);
    } finally {
      this.#release();
    }
  }

  #acquire(priority: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortedError(undefined, { cause: signal.reason }));
    if (this.#free > 0 && this.#queue.length === 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(new AbortedError(undefined, { cause: signal?.reason }));
      };
      const waiter: Waiter = {
        priority,
        seq: this.#seq++,
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      // Sorted: highest priority first, then arrival order.
      const at = this.#queue.findIndex(
        (w) => w.priority < priority || (w.priority === priority && w.seq > waiter.seq),
      );
      this.#queue.splice(at < 0 ? this.#queue.length : at, 0, waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) next.grant();
    else this.#free++;
  }
}

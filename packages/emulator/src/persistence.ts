/**
 * Persistence without rewriting the cloud after every request: a cloud's state is watched (every write to it,
 * from any code path, counts as a change) and the state file is written only when something changed, at most
 * one write at a time, a burst of changes sharing the next write.
 */
import { chmodSync, renameSync, writeFileSync } from "node:fs";
import { chmod, rename, writeFile } from "node:fs/promises";

/** Plain objects and arrays: what a JSON-serialisable state is made of (other objects are left alone). */
const isPlain = (v: unknown): v is object => {
  if (typeof v !== "object" || v === null) return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/**
 * A view of `root` that calls `onChange` on every change made through it, at any depth: a property set to a
 * different value, added, deleted or defined (array methods included, as they set and delete indices). Reads
 * return views too, so code that walks the state from its root and mutates what it finds is seen whichever
 * path it takes; the underlying objects stay plain (serialise `root`, not the view). A value stored through a
 * view is stored unwrapped.
 */
export function watchState<T extends object>(root: T, onChange: () => void): T {
  const views = new WeakMap<object, object>();
  const targets = new WeakMap<object, object>();
  const unwrap = (v: unknown): unknown => (typeof v === "object" && v !== null ? (targets.get(v) ?? v) : v);
  const handler: ProxyHandler<Record<PropertyKey, unknown>> = {
    get(t, key) {
      const v = t[key];
      return isPlain(v) ? wrap(v) : v;
    },
    set(t, key, value) {
      const v = unwrap(value);
      if (!Object.hasOwn(t, key) || t[key] !== v) onChange();
      t[key] = v;
      return true;
    },
    deleteProperty(t, key) {
      if (Object.hasOwn(t, key)) onChange();
      return delete t[key];
    },
    defineProperty(t, key, desc) {
      onChange();
      return Reflect.defineProperty(t, key, "value" in desc ? { ...desc, value: unwrap(desc.value) } : desc);
    },
  };
  const wrap = (v: object): object => {
    const target = targets.get(v) ?? v;
    let view = views.get(target);
    if (!view) {
      view = new Proxy(target as Record<PropertyKey, unknown>, handler);
      views.set(target, view);
      targets.set(view, target);
    }
    return view;
  };
  return wrap(root) as T;
}

/** Write `text` to `path` atomically (a temporary file renamed over it), readable by the owner only. */
export function writeAtomicSync(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600); // a stale temporary file keeps its old mode through writeFileSync
  renameSync(tmp, path); // atomic on POSIX
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/**
 * The state file: counts changes (`changed()`), and `flush()` resolves once a write holding every change made
 * before the call is on disk. One write is in flight at a time; changes made meanwhile wait for the next one,
 * which every caller waiting on them shares. The text is serialised when a write starts, so each file written
 * is the whole state at one instant; a crash leaves the last file renamed into place.
 */
export class StateFile {
  #generation = 0;
  #saved = 0;
  #writingGeneration = 0;
  #writing: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  constructor(
    private readonly path: string,
    private readonly serialise: () => string,
    private readonly onWrite?: (bytes: number) => void,
  ) {}

  /** Something in the state changed. */
  changed(): void {
    this.#generation++;
  }

  /** Counts changes: compare two readings to know whether anything changed in between. */
  get generation(): number {
    return this.#generation;
  }

  /** Nothing changed since the last write (or none is needed). */
  get clean(): boolean {
    return this.#generation === this.#saved && !this.#writing;
  }

  /** Write now, synchronously (at start, before anyone can call). */
  writeSync(): void {
    const generation = this.#generation;
    const text = this.serialise();
    writeAtomicSync(this.path, text);
    this.#saved = generation;
    this.onWrite?.(text.length);
  }

  flush(): Promise<void> {
    if (this.#writing) {
      if (this.#generation === this.#writingGeneration) return this.#writing;
      const again = (): Promise<void> => {
        this.#next = undefined;
        return this.flush();
      };
      this.#next ??= this.#writing.then(again, again);
      return this.#next;
    }
    if (this.#generation === this.#saved) return Promise.resolve();
    const generation = this.#generation;
    this.#writingGeneration = generation;
    let text: string;
    try {
      text = this.serialise();
    } catch (err) {
      return Promise.reject(err);
    }
    this.#writing = writeAtomic(this.path, text)
      .then(() => {
        this.#saved = Math.max(this.#saved, generation);
        this.onWrite?.(text.length);
      })
      .finally(() => {
        this.#writing = undefined;
      });
    return this.#writing;
  }
}

/**
 * Persistence without rewriting the cloud after every request: a cloud's state is watched (every write to it,
 * from any code path, counts as a change) and the state file is written only when something changed, at most
 * one write at a time, a burst of changes sharing the next write, serialised in pieces rather than as one string.
 */
import { closeSync, fchmodSync, openSync, renameSync, writeSync } from "node:fs";
import { open, rename } from "node:fs/promises";

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

/** Receives the serialised state a piece at a time. */
export type Emit = (chunk: string) => void;

const skipped = (v: unknown): boolean => v === undefined || typeof v === "function" || typeof v === "symbol";

/**
 * `JSON.stringify(value)`, emitted in pieces: containers down to `depth` levels are walked here and what lies
 * below is stringified whole, so no string of the whole state is ever built (a large one would be a large
 * allocation per write).
 */
export function emitJson(value: unknown, emit: Emit, depth = 8): void {
  if (
    depth > 0 &&
    typeof value === "object" &&
    value !== null &&
    typeof (value as { toJSON?: unknown }).toJSON !== "function"
  ) {
    if (Array.isArray(value)) {
      emit("[");
      for (let i = 0; i < value.length; i++) {
        if (i > 0) emit(",");
        const v: unknown = value[i];
        if (skipped(v)) emit("null");
        else emitJson(v, emit, depth - 1);
      }
      emit("]");
      return;
    }
    emit("{");
    let first = true;
    for (const key of Object.keys(value)) {
      const v: unknown = (value as Record<string, unknown>)[key];
      if (skipped(v)) continue;
      emit(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
      first = false;
      emitJson(v, emit, depth - 1);
    }
    emit("}");
    return;
  }
  emit(JSON.stringify(value) ?? "null");
}

/** What `serialise` emits, in pieces of about 64 KiB: the whole state at one instant, never one large string. */
function collect(serialise: (emit: Emit) => void): string[] {
  const pieces: string[] = [];
  let pending = "";
  serialise((chunk) => {
    pending += chunk;
    if (pending.length >= 65_536) {
      pieces.push(pending);
      pending = "";
    }
  });
  if (pending) pieces.push(pending);
  return pieces;
}

/** Write `pieces` to `path` atomically (a temporary file renamed over it), readable by the owner only. */
export function writeAtomicSync(path: string, pieces: readonly string[]): number {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  let bytes = 0;
  try {
    fchmodSync(fd, 0o600); // a stale temporary file keeps its old mode through open
    for (const piece of pieces) bytes += writeSync(fd, piece);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path); // atomic on POSIX
  return bytes;
}

async function writeAtomic(path: string, pieces: readonly string[]): Promise<number> {
  const tmp = `${path}.${process.pid}.tmp`;
  const file = await open(tmp, "w", 0o600);
  let bytes = 0;
  try {
    await file.chmod(0o600);
    for (const piece of pieces) bytes += (await file.write(piece)).bytesWritten;
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  return bytes;
}

/**
 * The state file: counts changes (`changed()`), and `flush()` resolves once a write holding every change made
 * before the call is on disk. One write is in flight at a time; changes made meanwhile wait for the next one,
 * which every caller waiting on them shares. The state is serialised when a write starts, so each file is the
 * whole state at one instant; a crash leaves the last file renamed into place.
 */
export class StateFile {
  #generation = 0;
  #saved = 0;
  #writingGeneration = 0;
  #writing: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  constructor(
    private readonly path: string,
    private readonly serialise: (emit: Emit) => void,
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

  /** Nothing changed since the last write, and none is in flight. */
  get clean(): boolean {
    return this.#generation === this.#saved && !this.#writing;
  }

  /** Write now, synchronously (at start, before anyone can call). */
  writeSync(): void {
    const generation = this.#generation;
    const bytes = writeAtomicSync(this.path, collect(this.serialise));
    this.#saved = generation;
    this.onWrite?.(bytes);
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
    let pieces: string[];
    try {
      pieces = collect(this.serialise);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#writing = writeAtomic(this.path, pieces)
      .then((bytes) => {
        this.#saved = Math.max(this.#saved, generation);
        this.onWrite?.(bytes);
      })
      .finally(() => {
        this.#writing = undefined;
      });
    return this.#writing;
  }
}

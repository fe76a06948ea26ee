import type { StateStore } from "../state/types.js";

/**
 * A state store for crash tests: it passes everything to `inner` until `crash()`, then refuses to write or remove
 * the state, as a killed process writes nothing more: what it last wrote is what the next run finds. Reads and
 * locks still pass, so the test can look at `inner` and take the dead run's lock over.
 */
export function crashableStore(inner: StateStore): { store: StateStore; crash(): void } {
  let crashed = false;
  const gone = () => new Error("simulated crash: the process is gone");
  const store: StateStore = {
    read: (options) => inner.read(options),
    write: async (state) => {
      if (crashed) throw gone();
      return inner.write(state);
    },
    lock: (operation) => inner.lock(operation),
    forceUnlock: (id) => inner.forceUnlock(id),
    lockInfo: () => inner.lockInfo(),
    remove: async () => {
      if (crashed) throw gone();
      return inner.remove();
    },
  };
  return {
    store,
    crash: () => {
      crashed = true;
    },
  };
}

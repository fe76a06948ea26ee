import type { HookFn, ProviderContractOptions, TestFn } from "./types.js";

/** One case of the suite, runnable on its own (cases share state: run them in order). */
export interface ContractCase {
  readonly name: string;
  readonly fn: () => Promise<void>;
}

/** How one case ended. */
export interface ContractResult {
  readonly name: string;
  readonly error?: unknown;
}

export type CollectOptions = Omit<ProviderContractOptions, "describe" | "it" | "beforeAll" | "afterAll">;

/**
 * The suite's cases without a test runner: what `runProviderContract` would register, recorded by fake
 * collectors. `run` behaves like a runner (hooks around the cases, in order, a failure does not stop the
 * rest) and reports each case; the mutation tests use it to show that a broken provider fails.
 */
export function collectProviderContract(
  options: CollectOptions,
  run: (o: ProviderContractOptions) => void,
): { readonly cases: readonly ContractCase[]; run(): Promise<ContractResult[]> } {
  const before: (() => Promise<void>)[] = [];
  const after: (() => Promise<void>)[] = [];
  const cases: ContractCase[] = [];
  const path: string[] = [];
  const it: TestFn = (name, fn) => {
    cases.push({ name: [...path, name].join(" > "), fn });
  };
  const hook =
    (into: (() => Promise<void>)[]): HookFn =>
    (fn) => {
      into.push(fn);
    };
  run({
    ...options,
    describe: (name, fn) => {
      path.push(name);
      try {
        fn();
      } finally {
        path.pop();
      }
    },
    it,
    beforeAll: hook(before),
    afterAll: hook(after),
  });
  return {
    cases,
    async run() {
      const results: ContractResult[] = [];
      let setup: unknown;
      try {
        for (const fn of before) await fn();
      } catch (error) {
        setup = error ?? new Error("beforeAll failed");
      }
      for (const c of cases) {
        if (setup !== undefined) {
          results.push({ name: c.name, error: setup });
          continue;
        }
        try {
          await c.fn();
          results.push({ name: c.name });
        } catch (error) {
          results.push({ name: c.name, error: error ?? new Error("rejected") });
        }
      }
      for (const fn of after) await fn();
      return results;
    },
  };
}

import type { CliIo } from "./io.js";
import { DeclinedError, PromptInterruptedError, UsageError } from "./render/errors.js";

/** What to ask, and what to say when the answer is no or there is nobody to ask. */
export interface ConfirmOptions {
  readonly yes: boolean;
  readonly question: string;
  readonly flagHint: string;
  readonly declined: string;
}

/**
 * Asks for confirmation, as Terraform does: only `yes` proceeds. `--yes` skips the question; without a
 * terminal there is nobody to ask, so the command refuses rather than guess.
 */
export const confirm = async (io: CliIo, opts: ConfirmOptions): Promise<void> => {
  if (opts.yes) return;
  if (!io.isTTY) {
    throw new UsageError(`${opts.flagHint}: stdin is not a terminal, so pass --yes to confirm.`);
  }
  io.stderr.write(`${opts.question}\n  Only 'yes' will be accepted: `);
  const answer = await readLine(io);
  if (answer.trim().toLowerCase() !== "yes") throw new DeclinedError(opts.declined);
};

const readLine = async (io: CliIo): Promise<string> => {
  // node:readline only when there is a question to ask: `--yes` and every other command need none of it.
  const { createInterface } = await import("node:readline");
  return new Promise((resolvePromise, reject) => {
    const input = io.stdin ?? process.stdin;
    const rl = createInterface({ input, terminal: false });
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      io.signal?.removeEventListener("abort", onAbort);
      rl.close();
      // readline resumed stdin; pause it so it does not keep the process alive.
      if ("pause" in input && typeof input.pause === "function") input.pause();
      fn();
    };
    const onAbort = () => finish(() => reject(new PromptInterruptedError()));
    if (io.signal?.aborted) return onAbort();
    io.signal?.addEventListener("abort", onAbort, { once: true });
    rl.once("line", (line) => finish(() => resolvePromise(line)));
    rl.once("close", () => finish(() => resolvePromise("")));
  });
};

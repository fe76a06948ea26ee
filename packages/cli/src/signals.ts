/** What `onInterrupt` needs from the process, injectable for tests. */
export interface InterruptHooks {
  /** Ends the process at once (second signal). */
  readonly exit: (code: number) => void;
}

/**
 * The signals that stop a run gracefully, each with the exit code it ends the run with (128 + its number, as a
 * shell reports a process killed by it): Ctrl-C, `kill`/systemd/Docker stopping it, the terminal closing.
 */
export const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/** One of the signals above. */
export type StopSignal = keyof typeof STOP_SIGNALS;

const isStopSignal = (name: string): name is StopSignal => Object.hasOwn(STOP_SIGNALS, name);

/** The abort reason a stop signal leaves on the run's signal, so the exit code and messages can name it. */
export class StopRequested extends Error {
  readonly signal: StopSignal;
  constructor(signal: StopSignal) {
    super(`interrupted (${signal})`);
    this.name = "StopRequested";
    this.signal = signal;
  }
}

/**
 * Printed after the first Ctrl-C, by the running command's progress view (so a live view is not drawn over
 * it).
 */
export const INTERRUPT_NOTICE = "Stopping after the calls in flight; press Ctrl-C again to exit now.";

/** The notice for the signal that stopped the run (`signal.reason`); Ctrl-C's unless another signal did. */
export const interruptNotice = (signal: AbortSignal | undefined): string => {
  const stop = stoppedBy(signal);
  return stop === undefined || stop === "SIGINT"
    ? INTERRUPT_NOTICE
    : `Received ${stop}: stopping after the calls in flight; a second signal exits now.`;
};

/** Which stop signal aborted `signal`, if one did. */
export const stoppedBy = (signal: AbortSignal | undefined): StopSignal | undefined =>
  signal?.aborted && signal.reason instanceof StopRequested ? signal.reason.signal : undefined;

/**
 * The handler for SIGINT, SIGTERM and SIGHUP (Node passes the signal's name): the first aborts the controller,
 * so resources in flight stop at their next wait, state keeps what finished and the lock is released; the
 * command then exits with the signal's code. A second signal of any of them exits at once with its own code.
 */
export const onInterrupt =
  (controller: AbortController, hooks: InterruptHooks): ((signal?: string) => void) =>
  (signal = "SIGINT") => {
    const stop = isStopSignal(signal) ? signal : "SIGINT";
    if (controller.signal.aborted) {
      hooks.exit(STOP_SIGNALS[stop]);
      return;
    }
    controller.abort(new StopRequested(stop));
  };

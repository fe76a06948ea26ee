/** What `onInterrupt` needs from the process, injectable for tests. */
export interface InterruptHooks {
  /** Ends the process at once (second Ctrl-C). */
  readonly exit: (code: number) => void;
}

/**
 * Printed after the first Ctrl-C, by the running command's progress view (so a live view is not drawn over
 * it).
 */
export const INTERRUPT_NOTICE = "Stopping after the calls in flight; press Ctrl-C again to exit now.";

/**
 * The SIGINT handler: the first Ctrl-C aborts the controller, so resources in flight stop at their next wait
 * and state keeps what finished; the second exits at once with 130.
 */
export const onInterrupt =
  (controller: AbortController, hooks: InterruptHooks): (() => void) =>
  () => {
    if (controller.signal.aborted) {
      hooks.exit(130);
      return;
    }
    controller.abort(new Error("interrupted (SIGINT)"));
  };

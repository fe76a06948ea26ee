/** What `onInterrupt` needs from the process, injectable for tests. */
export interface InterruptHooks {
  /** Writes the notice after the first Ctrl-C. */
  readonly write: (text: string) => void;
  /** Ends the process at once (second Ctrl-C). */
  readonly exit: (code: number) => void;
}

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
    hooks.write("\nStopping after the calls in flight; press Ctrl-C again to exit now.\n");
    controller.abort(new Error("interrupted (SIGINT)"));
  };

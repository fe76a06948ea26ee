/** One unit of work in a dependency graph. */
export interface Task {
  readonly id: string;
  readonly dependsOn: readonly string[];
  run(signal: AbortSignal): Promise<void>;
}

/** How each task ended. */
export type TaskOutcome =
  | { readonly status: "done" }
  | { readonly status: "failed"; readonly error: unknown }
  | { readonly status: "skipped"; readonly because: string };

/**
 * Runs tasks as soon as their dependencies are done, at most `parallelism` at once. A failed task skips its
 * dependents but lets independent branches finish, so one slow failure never strands finished work
 * outside the state. Dependencies on ids that are not tasks count as done.
 */
export async function runGraph(
  tasks: readonly Task[],
  options: { parallelism: number; signal: AbortSignal; onSkip?: (id: string, because: string) => void },
): Promise<Map<string, TaskOutcome>> {
  const outcomes = new Map<string, TaskOutcome>();
  const ids = new Set(tasks.map((t) => t.id));
  const pending = new Map(tasks.map((t) => [t.id, t]));
  let running = 0;
  return new Promise((resolveAll) => {
    const settle = (id: string, outcome: TaskOutcome) => {
      outcomes.set(id, outcome);
      pending.delete(id);
    };
    const pump = () => {
      // Skip what can never run, repeatedly, since a skip may skip further dependents.
      for (let changed = true; changed; ) {
        changed = false;
        for (const task of pending.values()) {
          const blocker = task.dependsOn.find(
            (d) => ids.has(d) && outcomes.has(d) && outcomes.get(d)?.status !== "done",
          );
          if (blocker !== undefined || options.signal.aborted) {
            const because = options.signal.aborted ? "aborted" : `${blocker} did not complete`;
            settle(task.id, { status: "skipped", because });
            options.onSkip?.(task.id, because);
            changed = true;
          }
        }
      }
      for (const task of [...pending.values()]) {
        if (running >= options.parallelism) break;
        if (!task.dependsOn.every((d) => !ids.has(d) || outcomes.get(d)?.status === "done")) continue;
        pending.delete(task.id);
        running++;
        task
          .run(options.signal)
          .then(
            () => outcomes.set(task.id, { status: "done" }),
            (error: unknown) => outcomes.set(task.id, { status: "failed", error }),
          )
          .finally(() => {
            running--;
            pump();
          });
      }
      if (pending.size === 0 && running === 0) resolveAll(outcomes);
    };
    pump();
  });
}

/** One unit of work in a dependency graph. */
export interface Task {
  readonly id: string;
  readonly dependsOn: readonly string[];
  /** How long the task is expected to take, in seconds (`expectedSeconds`); 0 when unknown. */
  readonly weight?: number;
  run(signal: AbortSignal): Promise<void>;
}

/** How each task ended. */
export type TaskOutcome =
  | { readonly status: "done" }
  | { readonly status: "failed"; readonly error: unknown }
  | { readonly status: "skipped"; readonly because: string };

/**
 * Each task's longest remaining path: its own weight plus the longest path through what waits for it. The
 * critical path's tasks have the highest values; `runGraph` starts ready work in that order and the API-call
 * slots (`ApiSlots`) serve queued calls in that order. Dependencies on ids that are not tasks are ignored.
 */
export function remainingPaths(tasks: readonly Task[]): Map<string, number> {
  const dependents = new Map<string, Task[]>();
  for (const t of tasks) for (const d of t.dependsOn) dependents.set(d, [...(dependents.get(d) ?? []), t]);
  const paths = new Map<string, number>();
  const visiting = new Set<string>();
  const path = (t: Task): number => {
    const known = paths.get(t.id);
    if (known !== undefined) return known;
    // A cycle would never run anyway (its tasks wait for each other); count it once rather than loop.
    if (visiting.has(t.id)) return 0;
    visiting.add(t.id);
    const after = Math.max(0, ...(dependents.get(t.id) ?? []).map(path));
    visiting.delete(t.id);
    const total = (t.weight ?? 0) + after;
    paths.set(t.id, total);
    return total;
  };
  for (const t of tasks) path(t);
  return paths;
}

/**
 * Runs every task as soon as its dependencies are done, all that are ready at once: what bounds the work is the
 * number of cloud API calls in flight (`ApiSlots`), not resources, so a resource that is only waiting for the
 * cloud never keeps another from starting. Ready tasks start in order of their longest remaining path
 * (`remainingPaths`), then declaration order, so with one API slot the critical path's first call still goes
 * first. A failed task skips its dependents but lets independent branches finish, so one slow failure never
 * strands finished work outside the state. Dependencies on ids that are not tasks count as done.
 */
export async function runGraph(
  tasks: readonly Task[],
  options: {
    signal: AbortSignal;
    onSkip?: (id: string, because: string) => void;
    /** At most this many tasks at once (default: no limit). */
    maxTasks?: number;
  },
): Promise<Map<string, TaskOutcome>> {
  const outcomes = new Map<string, TaskOutcome>();
  const ids = new Set(tasks.map((t) => t.id));
  const paths = remainingPaths(tasks);
  const order = new Map(tasks.map((t, i) => [t.id, i]));
  const byPath = [...tasks].sort(
    (a, b) => (paths.get(b.id) ?? 0) - (paths.get(a.id) ?? 0) || order.get(a.id)! - order.get(b.id)!,
  );
  const pending = new Map(byPath.map((t) => [t.id, t]));
  const limit = options.maxTasks ?? Number.POSITIVE_INFINITY;
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
        if (running >= limit) break;
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

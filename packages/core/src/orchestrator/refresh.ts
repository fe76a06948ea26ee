import type { ResourceStatus, StatusReport } from "../api/types.js";
import { K3sinfraError } from "../errors.js";
import type { ClusterState, ResourceRecord } from "../state/types.js";
import { kindOf, type RecordedState } from "./kinds/index.js";
import type { ClusterRun } from "./run.js";
import { runGraph } from "./scheduler.js";

/** What refresh found for one recorded resource. */
export type Observation =
  | { readonly status: "ok"; readonly live: RecordedState }
  | {
      readonly status: "drifted";
      readonly live: RecordedState;
      /** State fields that differ from the record. */
      readonly fields: readonly string[];
      /** The same, in words: `status (running → stopped)`, `firewall rules`. */
      readonly detail: string;
    }
  | { readonly status: "missing" }
  | { readonly status: "unknown"; readonly error: unknown };

/**
 * Fields that change by themselves and that converging would not put back (a public IP after a restart,
 * target health), so they never count as drift. Node status does: a stopped server is repaired by `up`.
 */
const VOLATILE: ReadonlySet<string> = new Set(["publicIp", "healthy", "updatedAt", "nodeWritten"]);

const LABELS: Readonly<Record<string, string>> = {
  rulesDigest: "firewall rules",
  ruleCount: "number of firewall rules",
  nodeIds: "registered targets",
};

/** JSON with sorted keys and sorted lists of scalars, so order the cloud does not promise is not drift. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => {
    if (Array.isArray(x) && x.every((e) => typeof e !== "object" || e === null)) return [...x].sort();
    if (x && typeof x === "object" && !Array.isArray(x))
      return Object.fromEntries(
        Object.entries(x as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
      );
    return x;
  });

const describeField = (field: string, before: unknown, after: unknown): string => {
  if (field === "status") return `status (${String(before)} → ${String(after)})`;
  if (Array.isArray(before) && Array.isArray(after)) {
    const added = after.filter((x) => !before.includes(x)).length;
    const removed = before.filter((x) => !after.includes(x)).length;
    const parts = [added > 0 ? `+${added}` : "", removed > 0 ? `-${removed}` : ""].filter(Boolean);
    return `${LABELS[field] ?? field} (${parts.join(" ") || "changed"})`;
  }
  return LABELS[field] ?? field;
};

/** Compares a record with what the cloud returned; the fields that differ and what they mean. */
export function compare(record: ResourceRecord, live: RecordedState): Observation {
  // A recorded `status` is drift only where it is a steady state `update` restores; elsewhere it is transitional.
  const statusIsDrift = kindOf(record.kind).statusIsDrift === true;
  const fields = Object.keys(record.state)
    .filter((k) => !VOLATILE.has(k) && (k !== "status" || statusIsDrift))
    // A field the provider's read does not return cannot be compared: unknown is not drift.
    .filter((k) => live[k] !== undefined)
    .filter((k) => canonical(record.state[k]) !== canonical(live[k]))
    .sort();
  if (fields.length === 0) return { status: "ok", live };
  const detail = fields.map((f) => describeField(f, record.state[f], live[f])).join(", ");
  return { status: "drifted", live, fields, detail };
}

/**
 * Reads every recorded resource from the cloud, all at once (the API-call slots, `parallelism`, bound the
 * requests in flight), and compares each with its record. Never writes state; a failed read is `unknown`,
 * never taken for gone.
 */
export async function refresh(run: ClusterRun, state: ClusterState): Promise<Map<string, Observation>> {
  const observed = new Map<string, Observation>();
  const records = Object.values(state.resources);
  await runGraph(
    records.map((record) => ({
      id: record.resource,
      dependsOn: [],
      run: async (signal: AbortSignal) => {
        try {
          await run.step(record.resource, "read", async () => {
            const live = await run.call(
              record.resource,
              record.kind,
              "read",
              signal,
              (ctx) => kindOf(record.kind).handler(run, record.resource).read(record, ctx),
              record.generation,
            );
            observed.set(record.resource, live ? compare(record, live) : { status: "missing" });
          });
        } catch (error) {
          observed.set(record.resource, { status: "unknown", error });
        }
      },
    })),
    { signal: run.signal },
  );
  return observed;
}

/** Refresh for plan and up: a resource that could not be read stops the plan, naming it and the cause. */
export async function refreshForPlan(
  run: ClusterRun,
  state: ClusterState,
): Promise<Map<string, Observation>> {
  const observed = await refresh(run, state);
  if (run.signal.aborted) throw run.stopped("nothing was changed.");
  const failed = [...observed].filter(([, o]) => o.status === "unknown");
  if (failed.length > 0) {
    const first = failed[0]![1] as { error: unknown };
    const what = failed.map(([id]) => id).join(", ");
    throw new K3sinfraError(
      "ProviderError",
      `Could not read ${what} from the cloud to compare it with the state, so no plan was made: ${first.error instanceof Error ? first.error.message : String(first.error)}. Run again, or plan from the state alone with --refresh=false.`,
      { cause: first.error },
    );
  }
  return observed;
}

/** The drift report of `status`, from one refresh. */
export async function statusReport(run: ClusterRun): Promise<StatusReport> {
  const state = await run.readState();
  const lock = await run.store.lockInfo();
  const lockReport = lock
    ? { owner: lock.owner, operation: lock.operation, acquiredAt: lock.acquiredAt, id: lock.id }
    : undefined;
  const tail = lockReport ? { lock: lockReport } : {};
  if (!state) return { cluster: run.config.name, exists: false, resources: [], ...tail };
  run.adopt(state);
  const observed = await refresh(run, state);
  const resources = Object.values(state.resources).map((record): ResourceStatus => {
    const base = { resource: record.resource, kind: record.kind, id: record.state.id };
    const o = observed.get(record.resource);
    switch (o?.status) {
      case "ok":
        return { ...base, status: "ok" };
      case "drifted":
        return {
          ...base,
          status: "drifted",
          detail: `changed outside k3sinfra: ${o.detail}; \`up\` will repair it`,
        };
      case "missing":
        return { ...base, status: "missing", detail: "not found in the cloud; `up` will create it again" };
      default: {
        const error = o?.status === "unknown" ? o.error : run.signal.reason;
        return {
          ...base,
          status: "unknown",
          detail: `read failed: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
    }
  });
  return { cluster: run.config.name, exists: true, resources, ...tail };
}

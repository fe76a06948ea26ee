import type { ChangeAction, Plan, PlannedChange } from "../api/types.js";
import { PlanRefusedError } from "../errors.js";
import type { ClusterState } from "../state/types.js";
import type { DesiredResource, ResourceKind, SpecBuilder } from "./desired.js";
import { type Kind, kindOf, lookupIn } from "./kinds/index.js";
import type { Observation } from "./refresh.js";

const HASHED = /^[0-9a-f]{16}$/;

/** The plan id of a deposed server, e.g. `node-1.g0`: the resource and the generation being retired. */
export const deposedId = (d: { readonly resource: string; readonly generation: number }): string =>
  `${d.resource}.g${d.generation}`;

/** One changed input, readably: lists say what was added and removed; hashes only that they changed. */
export function describeChange(field: string, before: string | undefined, after: string | undefined): string {
  const list = (v: string | undefined): string[] | undefined => {
    try {
      const parsed = v === undefined ? undefined : (JSON.parse(v) as unknown);
      return Array.isArray(parsed) ? parsed.map(String) : undefined;
    } catch {
      return undefined;
    }
  };
  const [a, b] = [list(before), list(after)];
  if (a && b) {
    const added = b.filter((x) => !a.includes(x)).length;
    const removed = a.filter((x) => !b.includes(x)).length;
    const parts = [added > 0 ? `+${added}` : "", removed > 0 ? `-${removed}` : ""].filter(Boolean);
    return `${field} (${parts.length > 0 ? parts.join(" ") : "reordered"})`;
  }
  if ((before && HASHED.test(before)) || (after && HASHED.test(after))) return `${field} changed`;
  return `${field} (${before ?? "unset"} → ${after ?? "unset"})`;
}

/**
 * Compares what the config asks for with what the state records. The Rancher hostname is refused outright
 * if it changed: it is baked into Rancher and every agent, and cannot change after creation.
 */
export function computePlan(args: {
  desired: readonly DesiredResource[];
  state: ClusterState | undefined;
  builder: SpecBuilder;
  /** What refresh found in the cloud; unset with `--refresh=false` (the state is taken as true). */
  observed?: ReadonlyMap<string, Observation> | undefined;
  /** A kind's updatable fields and whether it can repair drift in place (they ask the providers' services). */
  can: {
    readonly updatable: (kind: Kind) => readonly string[] | "all";
    readonly repair: (kind: Kind) => boolean;
  };
}): Plan & { readonly byId: ReadonlyMap<string, PlannedChange & { readonly internalKind: ResourceKind }> } {
  const { desired, state, builder } = args;
  const config = builder.config;
  if (state?.hostname && state.hostname !== config.rancher.hostname) {
    throw new PlanRefusedError(
      `rancher.hostname changed from '${state.hostname}' to '${config.rancher.hostname}'. The Rancher URL cannot change after creation: put '${state.hostname}' back, or destroy the cluster and create a new one under the new name.`,
    );
  }
  const records = state?.resources ?? {};
  const byId = new Map<string, PlannedChange & { internalKind: ResourceKind }>();
  const lookup = lookupIn(records);

  for (const d of desired) {
    const kind = kindOf(d.kind);
    const rec = records[d.id];
    const base = { resource: d.id, kind: d.kind, internalKind: d.kind, dependsOn: d.dependsOn };
    const moving = d.dependsOn.filter((dep) => {
      const a = byId.get(dep)?.action;
      return a === "create" || a === "replace";
    });
    if (!rec) {
      const interrupted = state?.journal.some((i) => i.resource === d.id && i.action === "create");
      byId.set(d.id, {
        ...base,
        action: "create",
        reason: interrupted
          ? "an earlier run was interrupted while creating it; what it made is adopted, not duplicated"
          : "not created yet",
      });
      continue;
    }
    const seen = args.observed?.get(d.id);
    if (seen?.status === "missing") {
      byId.set(d.id, {
        ...base,
        action: "create",
        drift: "missing",
        reason: "deleted outside k3sinfra: not found in the cloud",
      });
      continue;
    }
    if (rec.provider !== d.provider) {
      byId.set(d.id, {
        ...base,
        action: "replace",
        reason: `provider changes from ${rec.provider} to ${d.provider}`,
      });
      continue;
    }
    const want = kind.inputs(builder, d, lookup);
    const fields = [...new Set([...Object.keys(want), ...Object.keys(rec.inputs)])]
      .filter((k) => want[k] !== rec.inputs[k])
      .sort();
    const drifted = seen?.status === "drifted" ? seen : undefined;
    const retiring = seen && "live" in seen ? kind.retiring({ kind: d.kind, state: seen.live }) : [];
    if (fields.length === 0 && moving.length === 0 && !drifted && retiring.length > 0) {
      byId.set(d.id, {
        ...base,
        action: "update",
        reason: `retire ${retiring.join(", ")} from the secret store: the nodes wrote what it was kept for`,
      });
      continue;
    }
    if (fields.length === 0 && moving.length === 0 && !drifted) {
      byId.set(d.id, { ...base, action: "no-op", reason: "up to date" });
      continue;
    }
    if (fields.length === 0 && moving.length === 0 && drifted) {
      const repairable = args.can.repair(kind);
      byId.set(d.id, {
        ...base,
        action: repairable ? "update" : "replace",
        drift: "changed",
        reason: `changed outside k3sinfra: ${drifted.detail}${repairable ? "" : "; the provider cannot repair it in place"}`,
        fields: drifted.fields,
      });
      continue;
    }
    const updatable = args.can.updatable(kind);
    const fixed =
      updatable === "all" || kind.derived
        ? []
        : fields.filter((f) => f !== "network" && !updatable.includes(f));
    const describe = fields.map((f) => describeChange(f, rec.inputs[f], want[f])).join(", ");
    let action: ChangeAction;
    let reason: string;
    if (moving.length > 0 && !kind.derived) {
      action = "replace";
      reason = `${moving.join(", ")} will be replaced`;
    } else if (fixed.length > 0 || fields.includes("network")) {
      action = "replace";
      reason = `${describe} cannot change in place`;
    } else {
      action = "update";
      reason = fields.length > 0 ? `${describe}` : `${moving.join(", ")} changes`;
    }
    if (drifted) reason += `; also changed outside k3sinfra: ${drifted.detail}`;
    byId.set(d.id, { ...base, action, reason, fields, ...(drifted ? { drift: "changed" as const } : {}) });
  }

  const wanted = new Set(desired.map((d) => d.id));
  const deletions: (PlannedChange & { internalKind: ResourceKind })[] = Object.values(records)
    .filter((r) => !wanted.has(r.resource))
    .map((r) => ({
      resource: r.resource,
      kind: r.kind,
      internalKind: r.kind,
      action: "delete" as const,
      reason: kindOf(r.kind).removedReason ?? "no longer in the config",
      dependsOn: [],
    }));
  for (const del of deletions) byId.set(del.resource, del);
  for (const old of state?.deposed ?? [])
    byId.set(deposedId(old), {
      resource: deposedId(old),
      kind: old.kind,
      internalKind: old.kind,
      action: "delete",
      reason: kindOf(old.kind).deposedReason(old),
      dependsOn: [old.resource],
    });

  const changes = [...byId.values()].map(({ internalKind: _k, ...c }) => c);
  const warnings: string[] = [];
  if (changes.some((c) => c.resource.startsWith("node-") && c.action === "replace")) {
    warnings.push(
      "K3s servers are replaced one at a time, create-before-destroy: each new server joins and must pass the load balancer's health checks before the old one is deregistered and deleted. If it does not, the old one keeps serving and up stops.",
    );
  }
  if (changes.some((c) => c.resource === "datastore" && c.action === "replace")) {
    warnings.push(
      "Replacing the datastore creates a new, empty database: the cluster's data would be lost. Take a snapshot first, or revert the change.",
    );
  }
  return { cluster: config.name, changes, warnings, empty: changes.every((c) => c.action === "no-op"), byId };
}

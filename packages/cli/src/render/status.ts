import type { ResourceStatus, StatusReport } from "@k3sinfra/core";
import { type Style, table } from "./style.js";

const paint = (style: Style, s: ResourceStatus["status"]): string => {
  switch (s) {
    case "ok":
      return style.green(s);
    case "drifted":
      return style.yellow(s);
    case "missing":
      return style.red(s);
    default:
      return style.magenta(s);
  }
};

// The order `up` creates them in, so the table reads like the plan; kinds of custom providers go last.
const KIND_ORDER = ["network", "datastore", "nodes", "loadBalancer", "targets", "dns", "bootstrap"];
const rank = (kind: string): number => {
  const i = KIND_ORDER.indexOf(kind);
  return i === -1 ? KIND_ORDER.length : i;
};
/** Orders resources as `up` creates them (nodes by number), so lists read like the plan. */
export const byKindThenName = (a: ResourceStatus, b: ResourceStatus): number =>
  rank(a.kind) - rank(b.kind) || a.resource.localeCompare(b.resource, "en", { numeric: true });

/** The drift report as a table, with the lock holder if any and a hint on what to do next. */
export const renderStatus = (report: StatusReport, style: Style): string => {
  const lines: string[] = [];
  if (!report.exists) {
    lines.push(`Cluster ${style.bold(report.cluster)} has no state yet: run \`k3sinfra up\` to create it.`);
  } else {
    lines.push(`Cluster ${style.bold(report.cluster)}:`, "");
    const resources = [...report.resources].sort(byKindThenName);
    // DETAIL only when some resource has one: an empty last column would only widen the table.
    const detail = resources.some((r) => r.detail);
    const rows = [
      ["RESOURCE", "KIND", "STATUS", "ID", ...(detail ? ["DETAIL"] : [])].map(style.bold),
      ...resources.map((r) => [
        r.resource,
        r.kind,
        paint(style, r.status),
        r.id,
        ...(detail ? [r.detail ?? ""] : []),
      ]),
    ];
    lines.push(table(rows, "  "));
    const counts = { ok: 0, drifted: 0, missing: 0, unknown: 0 };
    for (const r of report.resources) counts[r.status]++;
    lines.push(
      "",
      `${counts.ok} ok, ${counts.drifted} drifted, ${counts.missing} missing, ${counts.unknown} unknown.`,
    );
    if (counts.drifted + counts.missing > 0) {
      // Mid-run, drift is usually the run's own work in flight, not something to repair.
      lines.push(
        report.lock
          ? `\`k3sinfra ${report.lock.operation}\` is running (see the lock below): what it is changing shows as drifted or missing until it finishes.`
          : "Run `k3sinfra plan` to see what `k3sinfra up` would do to bring them back.",
      );
    }
    if (counts.unknown > 0) {
      lines.push(
        "Some resources could not be read (see DETAIL); they stay in state until a read confirms they are gone.",
      );
    }
  }
  if (report.lock) {
    const l = report.lock;
    lines.push(
      "",
      `${style.yellow("Locked")} by ${l.owner} (${l.operation}, since ${l.acquiredAt}), lock id ${l.id}.`,
    );
  }
  return `${lines.join("\n")}\n`;
};

import type { ChangeAction, Plan } from "@k3sinfra/core";
import { type Style, table } from "./style.js";

/** Terraform/Pulumi-style symbols, so the plan reads the way users already know. */
const SYMBOLS: Record<ChangeAction, string> = {
  create: "+",
  update: "~",
  replace: "-/+",
  delete: "-",
  "no-op": " ",
};

const colour = (style: Style, action: ChangeAction): ((s: string) => string) => {
  switch (action) {
    case "create":
      return style.green;
    case "update":
      return style.yellow;
    case "replace":
      return style.magenta;
    case "delete":
      return style.red;
    default:
      return style.dim;
  }
};

/** Counts per action, e.g. for the summary line. */
export const countActions = (plan: Plan): Record<ChangeAction, number> => {
  const counts: Record<ChangeAction, number> = { create: 0, update: 0, replace: 0, delete: 0, "no-op": 0 };
  for (const c of plan.changes) counts[c.action]++;
  return counts;
};

/** `Plan: 7 to create, 0 to update, 0 to replace, 0 to delete (2 unchanged).` */
export const planSummary = (plan: Plan, style: Style): string => {
  const n = countActions(plan);
  const unchanged = n["no-op"] > 0 ? ` (${n["no-op"]} unchanged)` : "";
  // Only counts that are not zero get their colour, so the eye goes to what will happen.
  const part = (count: number, text: string, paint: (s: string) => string) =>
    count > 0 ? paint(`${count} ${text}`) : `${count} ${text}`;
  return (
    `${style.bold("Plan:")} ${part(n.create, "to create", style.green)}, ${part(n.update, "to update", style.yellow)}, ` +
    `${part(n.replace, "to replace", style.magenta)}, ${part(n.delete, "to delete", style.red)}${unchanged}.`
  );
};

/**
 * The plan as a person reads it: one line per change with its symbol, the resource, the action and the
 * reason; unchanged resources are counted, not listed; warnings last.
 */
export const renderPlan = (plan: Plan, style: Style): string => {
  const lines: string[] = [];
  const changes = plan.changes.filter((c) => c.action !== "no-op");
  if (changes.length === 0) {
    lines.push(
      `${style.green("No changes.")} Cluster ${style.bold(plan.cluster)} matches the config (${plan.changes.length} resources up to date).`,
    );
  } else {
    lines.push(`k3sinfra will perform these actions on cluster ${style.bold(plan.cluster)}:`, "");
    const rows = changes.map((c) => {
      const paint = colour(style, c.action);
      const fields = c.fields && c.fields.length > 0 ? ` [${c.fields.join(", ")}]` : "";
      return [
        paint(SYMBOLS[c.action].padStart(3)),
        paint(c.resource),
        paint(c.action),
        style.dim(c.reason + fields),
      ];
    });
    lines.push(table(rows, "  "), "", planSummary(plan, style));
    if (changes.some((c) => c.action === "replace")) {
      lines.push(
        style.magenta(
          "Replacing a resource deletes it and creates a new one: its data and IPs do not survive.",
        ),
      );
    }
  }
  if (plan.notes && plan.notes.length > 0) {
    lines.push("", "Open these ports on the hosts' firewall (k3sinfra does not manage it):");
    for (const n of plan.notes) lines.push(`  - ${n}`);
  }
  for (const w of plan.warnings) lines.push(`${style.yellow("Warning:")} ${w}`);
  return `${lines.join("\n")}\n`;
};

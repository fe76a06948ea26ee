import { type Plan, PlanRefusedError, type ProgressEvent } from "@k3sinfra/core";
import { api } from "../api.js";
import { ExitCode } from "../exit-codes.js";
import { renderOutputs } from "../render/outputs.js";
import { countActions, renderPlan } from "../render/plan.js";
import { byKindThenName } from "../render/status.js";
import { formatDuration, table } from "../render/style.js";
import type { Session } from "../session.js";

/** `k3sinfra plan`: what `up` would do. */
export const planCommand = async (s: Session): Promise<number> => {
  const plan = await s.withApi(({ spec, options }) => api.plan(spec, options));
  if (s.flags.json) s.printJson(plan);
  else {
    const next = plan.empty
      ? ""
      : `\n${s.style.dim("Run `k3sinfra up` to make these changes (it shows this plan again and asks first).")}\n`;
    s.print(renderPlan(plan, s.style) + next);
  }
  return ExitCode.Success;
};

/** Options of `up`. */
export interface UpFlags {
  readonly parallelism?: number;
}

const fingerprint = (plan: Plan): string =>
  plan.changes
    .filter((c) => c.action !== "no-op")
    .map((c) => `${c.resource}:${c.action}`)
    .sort()
    .join(",");

/**
 * `k3sinfra up`: shows the plan, asks (unless --yes), applies. If the plan `up` computes under the lock differs
 * from the one the user approved (state changed in between), it stops before touching anything.
 */
export const upCommand = async (s: Session, flags: UpFlags): Promise<number> => {
  let applyStarted = Date.now();
  // Aborted by the caller (Ctrl-C) or by us when the plan changed under the lock.
  const controller = new AbortController();
  const signal = s.io.signal ? AbortSignal.any([s.io.signal, controller.signal]) : controller.signal;
  const result = await s.withApi(async ({ spec, options }) => {
    const shown = await api.plan(spec, options);
    if (!s.flags.json) s.print(renderPlan(shown, s.style));
    if (!shown.empty) {
      await s.confirm({
        yes: s.flags.yes,
        question: `\nDo you want k3sinfra to perform these actions on cluster ${shown.cluster}?`,
        flagHint: "up changes infrastructure",
        declined: "Up cancelled; nothing was changed.",
      });
    }
    let changed = false;
    // The plan's warnings were printed with it; up repeats them as events, which need not show twice.
    const printed = new Set(s.flags.json ? [] : shown.warnings);
    const onEvent = (e: ProgressEvent) => {
      if (e.type === "plan" && fingerprint(e.plan) !== fingerprint(shown)) {
        changed = true;
        controller.abort(new Error("plan changed"));
      }
      if (e.type === "warning" && printed.delete(e.message)) return;
      options.onEvent?.(e);
    };
    applyStarted = Date.now();
    try {
      return await api.up(spec, {
        ...options,
        onEvent,
        signal,
        ...(flags.parallelism ? { parallelism: flags.parallelism } : {}),
      });
    } catch (error) {
      if (changed) {
        throw new PlanRefusedError(
          "The plan changed after it was shown (another run changed the state), so up stopped before changing anything. Run `k3sinfra up` again to review the new plan.",
        );
      }
      throw error;
    }
  }, signal);

  if (s.flags.json) {
    s.printJson(result);
    return ExitCode.Success;
  }
  const n = countActions(result.plan);
  // Outputs first and the verdict last, as `terraform apply` ends: the last line says how it went.
  s.print(
    `\n${renderOutputs(result.outputs, s.style)}\n` +
      `${s.style.green("Up complete:")} ${n.create} created, ${n.update} updated, ${n.replace} replaced, ${n.delete} deleted ` +
      `in ${formatDuration(Date.now() - applyStarted)}. Rancher: ${s.style.bold(result.outputs.rancherUrl)}\n`,
  );
  return ExitCode.Success;
};

/** Options of `destroy`. */
export interface DestroyFlags {
  readonly allowProtected?: boolean;
  readonly parallelism?: number;
}

/** `k3sinfra destroy`: lists what state holds, asks (unless --yes), deletes in reverse order, then sweeps. */
export const destroyCommand = async (s: Session, flags: DestroyFlags): Promise<number> => {
  const started = Date.now();
  const result = await s.withApi(async ({ spec, options }) => {
    const report = await api.status(spec, options);
    if (!s.flags.json) {
      const lines: string[] = [];
      if (report.exists && report.resources.length > 0) {
        lines.push(`k3sinfra will delete cluster ${s.style.bold(report.cluster)}:`, "");
        lines.push(
          table(
            [...report.resources]
              .sort(byKindThenName)
              .map((r) => [s.style.red("-"), s.style.red(r.resource), r.kind, s.style.dim(r.id)]),
            "  ",
          ),
        );
      } else {
        lines.push(
          `Cluster ${s.style.bold(report.cluster)} has no resources in state; destroy will look for leftovers tagged with its name.`,
        );
      }
      if (flags.allowProtected) {
        lines.push(
          "",
          s.style.red("--allow-protected: the database is deleted even if protected, with its data."),
        );
      } else if (report.resources.some((r) => r.kind === "datastore")) {
        const config = await api.validateConfig(spec, options);
        if (config.datastore.deletionProtection) {
          lines.push(
            "",
            s.style.yellow(
              "The datastore has deletion protection: destroy deletes everything else and stops there. Pass --allow-protected to delete it and its data too.",
            ),
          );
        }
      }
      s.print(`${lines.join("\n")}\n`);
    }
    await s.confirm({
      yes: s.flags.yes,
      question: `\nDo you really want to destroy cluster ${report.cluster}? This cannot be undone.`,
      flagHint: "destroy deletes infrastructure",
      declined: "Destroy cancelled; nothing was deleted.",
    });
    // Destroy announces no plan: the footer counts against what state holds.
    s.expectProgress(report.resources.length);
    return api.destroy(spec, {
      ...options,
      ...(flags.allowProtected ? { allowProtected: true } : {}),
      ...(flags.parallelism ? { parallelism: flags.parallelism } : {}),
    });
  });
  if (s.flags.json) {
    s.printJson(result);
    return ExitCode.Success;
  }
  const swept =
    result.swept.length > 0
      ? `\nAlso deleted ${result.swept.length} leftover object(s) found by ownership tags:\n${result.swept
          .map((x) => `  - ${x.kind} ${x.id}`)
          .join("\n")}`
      : "";
  s.print(
    `${s.style.green("Destroy complete:")} ${result.deleted.length} resource(s) deleted in ${formatDuration(Date.now() - started)}.${swept}\n`,
  );
  return ExitCode.Success;
};

import type { Plan, ProgressEvent } from "@k3sinfra/core";
import { api } from "../api.js";
import { ExitCode } from "../exit-codes.js";
import { renderOutputs } from "../render/outputs.js";
import { countActions, renderPlan } from "../render/plan.js";
import { byKindThenName } from "../render/status.js";
import { formatDuration, table } from "../render/style.js";
import type { Session } from "../session.js";

/** Options of `plan`. */
export interface PlanFlags {
  readonly refresh?: boolean;
  readonly detailedExitcode?: boolean;
  readonly destroy?: boolean;
  /** Risky choices in the config are errors (exit 2), not warnings. */
  readonly strict?: boolean;
}

/** `k3sinfra plan`: what `up` (or, with --destroy, `destroy`) would do. */
export const planCommand = async (s: Session, flags: PlanFlags = {}): Promise<number> => {
  // Without a refresh, and with --destroy, core plans from the state alone: no cloud call, so no emulator.
  const readsCloud = flags.refresh !== false && flags.destroy !== true;
  const plan = await s.withApi(
    ({ spec, options }) =>
      api.plan(spec, {
        ...options,
        refresh: flags.refresh ?? true,
        destroy: flags.destroy === true,
        ...(flags.strict ? { strict: true } : {}),
      }),
    { readsCloud },
  );
  if (s.flags.json) s.printJson(plan);
  else {
    const command = flags.destroy ? "destroy" : "up";
    const next = plan.empty
      ? ""
      : `\n${s.style.dim(`Run \`k3sinfra ${command}\` to make these changes (it shows this plan again and asks first).`)}\n`;
    s.print(renderPlan(plan, s.style) + next);
  }
  // As terraform plan -detailed-exitcode, with 6 for "changes" since 2 already means a usage error here.
  return flags.detailedExitcode && !plan.empty ? ExitCode.Changes : ExitCode.Success;
};

/** Options of `up`. */
export interface UpFlags {
  readonly parallelism?: number;
  readonly refresh?: boolean;
  /** Risky choices in the config are errors (exit 2), not warnings. */
  readonly strict?: boolean;
  /** `--no-wait` sets it false. */
  readonly wait?: boolean;
}

/**
 * `k3sinfra up`: takes the state lock, shows the plan computed under it, asks (unless --yes), applies — as
 * `terraform apply` does, so what was approved is exactly what runs and no other run can slip in between.
 */
export const upCommand = async (s: Session, flags: UpFlags): Promise<number> => {
  let applyStarted = Date.now();
  const result = await s.withApi(async ({ spec, options }) => {
    // The plan's warnings are printed with it; up repeats them as events, which need not show twice.
    let printed = new Set<string>();
    const onEvent = (e: ProgressEvent) => {
      if (e.type === "plan") {
        if (!s.flags.json) s.print(renderPlan(e.plan, s.style));
        printed = new Set(s.flags.json ? [] : e.plan.warnings);
        return;
      }
      if (e.type === "warning" && printed.delete(e.message)) return;
      options.onEvent?.(e);
    };
    return api.up(spec, {
      ...options,
      onEvent,
      confirm: async (plan: Plan) => {
        await s.confirm({
          yes: s.flags.yes,
          question: `\nDo you want k3sinfra to perform these actions on cluster ${plan.cluster}?`,
          flagHint: "up changes infrastructure",
          declined: "Up cancelled; nothing was changed.",
        });
        applyStarted = Date.now();
        return true;
      },
      refresh: flags.refresh ?? true,
      wait: flags.wait ?? true,
      ...(flags.parallelism ? { parallelism: flags.parallelism } : {}),
      ...(flags.strict ? { strict: true } : {}),
    });
  });

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

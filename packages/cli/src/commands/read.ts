import { api } from "../api.js";
import { ExitCode } from "../exit-codes.js";
import { UsageError } from "../render/errors.js";
import { renderOutputs } from "../render/outputs.js";
import { renderStatus } from "../render/status.js";
import { renderVerify } from "../render/verify.js";
import type { Session } from "../session.js";

/** `k3sinfra status`: read-only drift report. */
export const statusCommand = async (s: Session): Promise<number> => {
  const report = await s.withApi(({ spec, options }) => api.status(spec, options));
  if (s.flags.json) s.printJson(report);
  else s.print(renderStatus(report, s.style));
  return ExitCode.Success;
};

/** `k3sinfra outputs`: what to act on; secrets masked unless `--show-secrets`. */
export const outputsCommand = async (s: Session, flags: { showSecrets?: boolean }): Promise<number> => {
  const outputs = await s.withApi(({ spec, options }) =>
    api.outputs(spec, { ...options, showSecrets: flags.showSecrets === true }),
  );
  if (s.flags.json) s.printJson(outputs);
  else s.print(renderOutputs(outputs, s.style));
  return ExitCode.Success;
};

/** Graph formats `graph` prints. */
export const GRAPH_FORMATS = ["mermaid", "dot"] as const;

/** `k3sinfra graph`: the resource dependency graph as Mermaid or Graphviz dot. */
export const graphCommand = async (s: Session, flags: { format?: string }): Promise<number> => {
  const format = flags.format ?? "mermaid";
  if (format !== "mermaid" && format !== "dot") {
    throw new UsageError(`--format must be mermaid or dot, not '${format}'.`);
  }
  const graph = await s.withApi(({ spec, options }) => api.graph(spec, { ...options, format }));
  if (s.flags.json) s.printJson({ format, graph });
  else s.print(graph.endsWith("\n") ? graph : `${graph}\n`);
  return ExitCode.Success;
};

/** Why verify checks nothing under --emulate. */
export const EMULATED_VERIFY_REASON =
  "not checked under --emulate: the emulated cloud answers API calls only (nothing resolves or listens)";

/**
 * `k3sinfra verify`: pass / fail / skip per check, each with its reason; exit 1 when any check fails. Under
 * --emulate nothing is resolved or connected (the user's hostname may be a real, unrelated site): every
 * check is skipped with the reason, as information. K3SINFRA_RANCHER_TOKEN lets it read Rancher's server-url.
 */
export const verifyCommand = async (s: Session, flags: { timeout?: number }): Promise<number> => {
  const token = s.io.env.K3SINFRA_RANCHER_TOKEN;
  const checks = await s.withApi(({ spec, options }) =>
    api.verify(spec, {
      ...options,
      ...(flags.timeout ? { timeoutMs: flags.timeout * 1000 } : {}),
      ...(token ? { rancherToken: token } : {}),
      ...(s.flags.emulate ? { offline: EMULATED_VERIFY_REASON } : {}),
    }),
  );
  const failed = checks.some((c) => c.status === "fail");
  if (s.flags.json) s.printJson({ ok: !failed, checks });
  else {
    const note = s.flags.emulate
      ? `${s.style.dim("Note: under --emulate verify only lists its checks; run it against the real cloud to check DNS, the load balancer, TLS and Rancher.")}\n`
      : "";
    s.print(renderVerify(checks, s.style) + note);
  }
  return failed ? ExitCode.Failure : ExitCode.Success;
};

/** `k3sinfra kubeconfig`: fetches the kubeconfig the first server stored, writes it 0600, says what next. */
export const kubeconfigCommand = async (s: Session, flags: { output?: string }): Promise<number> => {
  const result = await s.withApi(({ spec, options }) =>
    api.kubeconfig(spec, { ...options, ...(flags.output ? { output: flags.output } : {}) }),
  );
  if (s.flags.json) s.printJson(result);
  else {
    const lines = [
      `${s.style.green("Wrote")} ${result.path} ${s.style.dim("(mode 0600: it holds the cluster admin's credentials)")}`,
      `API server: ${result.server}`,
      "",
      "Next:",
      ...result.commands.map((c) => (c.startsWith("#") ? `  ${s.style.dim(c)}` : `  $ ${c}`)),
    ];
    s.print(`${lines.join("\n")}\n`);
  }
  return ExitCode.Success;
};

import type { ClusterOutputs } from "@k3sinfra/core";
import { type Style, table } from "./style.js";

const indent = (text: string, prefix: string): string =>
  text
    .replace(/\n$/, "")
    .split("\n")
    .map((l) => prefix + l)
    .join("\n");

/**
 * A shell command with a `$ ` prompt; continuation lines are aligned under it. A shell comment is advice, not
 * something to type, so it gets no prompt.
 */
const command = (text: string, prefix: string): string =>
  text
    .replace(/\n$/, "")
    .split("\n")
    .map((l, i) => (i > 0 ? `${prefix}  ${l}` : l.startsWith("#") ? `${prefix}${l}` : `${prefix}$ ${l}`))
    .join("\n");

const heading = (style: Style, s: string): string => style.bold(style.cyan(s));

/**
 * Outputs as sections a person can act on: the Rancher URL, the load balancer, nodes, the datastore, each
 * server's K3s config, and the Rancher install and kubeconfig commands. Secrets arrive masked from core
 * unless `--show-secrets` was given; this only lays them out.
 */
export const renderOutputs = (o: ClusterOutputs, style: Style): string => {
  const out: string[] = [];
  if (o.notice) out.push(style.yellow(o.notice), "");
  out.push(`${heading(style, "Rancher URL")}  ${style.bold(o.rancherUrl)}`, "");

  const lb = o.loadBalancer;
  const lbRows: string[][] = [
    ["mode", lb.mode === "l4" ? "l4 (TCP passthrough)" : "l7 (TLS at the load balancer)"],
  ];
  if (lb.hostname) lbRows.push(["hostname", lb.hostname]);
  if (lb.ips && lb.ips.length > 0) lbRows.push(["ips", lb.ips.join(", ")]);
  out.push(heading(style, "Load balancer"), table(lbRows, "  "), "");

  out.push(
    heading(style, "Nodes"),
    table(
      [
        ["RESOURCE", "NAME", "ZONE", "PRIVATE IP", "PUBLIC IP"].map(style.bold),
        ...o.nodes.map((n) => [n.resource, n.name, n.zone, n.privateIp, n.publicIp ?? "-"]),
      ],
      "  ",
    ),
    "",
  );

  out.push(
    heading(style, "Datastore"),
    table(
      [
        ["endpoint", `${o.datastore.host}:${o.datastore.port}`],
        ["tls", o.datastore.tls ? "on, verified with the provider's CA" : "off"],
      ],
      "  ",
    ),
    "",
  );

  out.push(
    heading(style, `K3s ${o.k3s.version}`),
    table(
      [
        ["datastore-endpoint", o.k3s.datastoreEndpoint],
        ["token", o.k3s.token],
        ["tls-san", o.k3s.tlsSan.join(", ")],
      ],
      "  ",
    ),
  );
  for (const s of o.k3s.servers) {
    out.push(
      "",
      `  ${style.bold(`/etc/rancher/k3s/config.yaml on ${s.node}`)}:`,
      indent(s.configYaml, "    "),
    );
  }
  out.push("");

  out.push(
    heading(style, `Rancher ${o.rancher.version}`),
    table([["bootstrap password", o.rancher.bootstrapPassword]], "  "),
    "",
    o.rancher.installedByCluster
      ? "  Installed by the cluster (the first server applies the charts); watch it with the kubeconfig below:"
      : "  Install (with kubectl and helm pointed at the cluster):",
    ...o.rancher.installCommands.map((c) => command(c, "    ")),
    "",
    "  Kubeconfig:",
    ...o.rancher.kubeconfigCommands.map((c) => command(c, "    ")),
  );

  if (!o.secretsShown) {
    // A masked command pasted as is would set the password to the mask: say where the real ones are.
    out.push(
      "",
      style.yellow(
        "Secrets are masked (********): copy the K3s configs and install commands from `k3sinfra outputs --show-secrets`, not from here.",
      ),
    );
  }
  return `${out.join("\n")}\n`;
};

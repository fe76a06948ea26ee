import type { ClusterOutputs } from "../api/types.js";
import type { ClusterConfig } from "../config/schema.js";
import type { DatastoreState } from "../resources/datastore.js";
import type { LoadBalancerState } from "../resources/load-balancer.js";
import type { NodeState } from "../resources/node.js";
import { Secret } from "../secret.js";
import type { ClusterState } from "../state/types.js";

/** Computes what a user acts on from the recorded states; secrets are masked unless asked for. */
export function buildOutputs(args: {
  config: ClusterConfig;
  state: ClusterState;
  k3sVersion: string;
  showSecrets: boolean;
}): ClusterOutputs {
  const { config, state, showSecrets } = args;
  const show = (v: string | undefined) => (v === undefined ? "" : showSecrets ? v : Secret.redacted);
  const rec = (id: string) => state.resources[id]?.state as Record<string, unknown> | undefined;
  const lb = rec("load-balancer") as unknown as LoadBalancerState | undefined;
  const ds = rec("datastore") as unknown as DatastoreState | undefined;
  const nodes = Array.from({ length: config.nodes.count }, (_, i) => ({
    id: `node-${i}`,
    s: rec(`node-${i}`) as unknown as NodeState | undefined,
  }))
    .filter((n) => n.s !== undefined)
    .map((n) => ({
      resource: n.id,
      name: n.s!.name,
      zone: n.s!.zone,
      privateIp: n.s!.privateIp,
      ...(n.s!.publicIp ? { publicIp: n.s!.publicIp } : {}),
    }));
  const hostname = config.rancher.hostname;
  const lbAddress = lb?.hostname ?? lb?.ips?.[0];
  const tlsSan = [hostname, ...(lbAddress ? [lbAddress] : [])];
  const db = config.datastore;
  const endpoint = ds
    ? `mysql://${db.username}:${show(state.secrets?.datastorePassword)}@tcp(${ds.host}:${ds.port})/${db.databaseName}`
    : "";
  const servers = nodes.map((n) => ({
    node: n.resource,
    configYaml: [
      `token: ${show(state.secrets?.k3sToken)}`,
      `datastore-endpoint: "${endpoint}"`,
      ...(ds?.tls.required ? ["datastore-cafile: /etc/rancher/k3s/datastore-ca.pem"] : []),
      "tls-san:",
      ...tlsSan.map((s) => `  - ${s}`),
      `node-ip: ${n.privateIp}`,
      'write-kubeconfig-mode: "0600"',
      "",
    ].join("\n"),
  }));
  const replicas = config.rancher.replicas ?? Math.min(config.nodes.count, 3);
  const bootstrap = show(state.secrets?.rancherBootstrapPassword);
  const l7 = config.loadBalancer.mode === "l7";
  const installCommands = [
    "helm repo add jetstack https://charts.jetstack.io",
    "helm repo add rancher-stable https://releases.rancher.com/server-charts/stable",
    "helm repo update",
    ...(l7
      ? []
      : [
          "helm upgrade --install cert-manager jetstack/cert-manager --namespace cert-manager --create-namespace --set crds.enabled=true --wait",
        ]),
    [
      "helm upgrade --install rancher rancher-stable/rancher --namespace cattle-system --create-namespace",
      `--version ${config.rancher.version}`,
      `--set hostname=${hostname}`,
      `--set replicas=${replicas}`,
      `--set bootstrapPassword=${bootstrap}`,
      ...(l7 ? ["--set tls=external"] : []),
      "--wait",
    ].join(" "),
  ];
  const first = nodes[0];
  const kubeconfigCommands = first
    ? [
        `ssh ubuntu@${first.publicIp ?? first.privateIp} sudo cat /etc/rancher/k3s/k3s.yaml > kubeconfig.yaml`,
        `sed -i 's#https://127.0.0.1:6443#https://${first.publicIp ?? first.privateIp}:6443#' kubeconfig.yaml`,
        "export KUBECONFIG=$PWD/kubeconfig.yaml",
      ]
    : [];
  return {
    cluster: config.name,
    rancherUrl: `https://${hostname}`,
    hostname,
    loadBalancer: {
      mode: config.loadBalancer.mode,
      ...(lb?.hostname ? { hostname: lb.hostname } : {}),
      ...(lb?.ips ? { ips: lb.ips } : {}),
    },
    nodes,
    datastore: { host: ds?.host ?? "", port: ds?.port ?? 0, tls: ds?.tls.required ?? false },
    k3s: {
      version: args.k3sVersion,
      datastoreEndpoint: endpoint,
      token: show(state.secrets?.k3sToken),
      tlsSan,
      servers,
    },
    rancher: {
      version: config.rancher.version,
      bootstrapPassword: bootstrap,
      installCommands,
      kubeconfigCommands,
    },
    secretsShown: showSecrets,
  };
}

import type { ClusterOutputs } from "../api/types.js";
import {
  certManagerVersionFor,
  datastoreEndpoint,
  kubeconfigCommands,
  rancherRelease,
  renderK3sConfig,
  renderRancherCommands,
  renderRancherWatchCommands,
} from "../bootstrap/index.js";
import type { ClusterConfig } from "../config/schema.js";
import type { NodeState } from "../resources/node.js";
import { Secret } from "../secret.js";
import type { ClusterState } from "../state/types.js";
import { stateIn } from "./kinds/index.js";
import { serverTlsSans } from "./user-data.js";

/** Computes what a user acts on from the recorded states; secrets are masked unless asked for. */
export function buildOutputs(args: {
  config: ClusterConfig;
  state: ClusterState;
  k3sVersion: string;
  showSecrets: boolean;
  /** Whether nodes verify the datastore with a CA (the provider offers one, or the server requires TLS). */
  datastoreTls?: boolean;
  /** Said with the outputs, e.g. that the config was edited since they were applied. */
  notice?: string | undefined;
  /** Whether the kubeconfig comes from the secret store (`k3sinfra kubeconfig`) rather than over SSH. */
  kubeconfigFromStore?: boolean;
}): ClusterOutputs {
  const { config, state, showSecrets } = args;
  const secret = (v: string | undefined) => new Secret(v ?? "");
  const lb = stateIn(state.resources, "loadBalancer", "load-balancer");
  const ds = stateIn(state.resources, "datastore", "datastore");
  const nodes = Array.from({ length: config.nodes.count }, (_, i) => ({
    resource: `node-${i}`,
    s: stateIn(state.resources, "nodes", `node-${i}`),
  }))
    .filter((n): n is { resource: string; s: NodeState } => n.s !== undefined)
    .map(({ resource, s }) => ({
      resource,
      name: s.name,
      zone: s.zone,
      privateIp: s.privateIp,
      ...(s.publicIp ? { publicIp: s.publicIp } : {}),
    }));
  const hostname = config.rancher.hostname;
  const tls = args.datastoreTls === true || ds?.tls.required === true;
  // Exactly the list the user data wrote on the servers (one function makes both).
  const tlsSan = serverTlsSans(config, stateIn(state.resources, "network", "network"));
  const endpointParts = ds && {
    user: config.datastore.k3sUsername,
    password: secret(state.secrets?.datastoreK3sPassword),
    host: ds.host,
    port: ds.port,
    database: config.datastore.databaseName,
  };
  const servers = nodes.map((n) => ({
    node: n.resource,
    configYaml: endpointParts
      ? renderK3sConfig({
          token: secret(state.secrets?.k3sToken),
          datastore: endpointParts,
          datastoreTls: tls,
          tlsSan,
          nodeIp: n.privateIp,
          showSecrets,
        })
      : "",
  }));
  const first = nodes[0];
  const mask = (v: string | undefined) => (showSecrets ? (v ?? "") : Secret.redacted);
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
    datastore: { host: ds?.host ?? "", port: ds?.port ?? 0, tls },
    k3s: {
      version: args.k3sVersion,
      datastoreEndpoint: endpointParts ? datastoreEndpoint(endpointParts, showSecrets) : "",
      token: mask(state.secrets?.k3sToken),
      tlsSan,
      servers,
    },
    rancher: {
      version: config.rancher.version,
      bootstrapPassword: mask(state.secrets?.rancherBootstrapPassword),
      // With rancher.install (the default) the cluster installs it: what, and how to watch. States applied
      // before the field existed have no `install`, and their servers installed nothing.
      installedByCluster: config.rancher.install === true,
      installCommands:
        config.rancher.install === true
          ? renderRancherWatchCommands({
              version: config.rancher.version,
              mode: config.loadBalancer.mode,
              certManagerVersion: certManagerVersionFor(config.rancher.version, args.k3sVersion),
            })
          : renderRancherCommands({
              hostname,
              version: config.rancher.version,
              replicas: config.rancher.replicas ?? config.nodes.count,
              mode: config.loadBalancer.mode,
              bootstrapPassword: secret(state.secrets?.rancherBootstrapPassword),
              showSecrets,
              channel:
                rancherRelease(config.rancher.version)?.chartRepository.name === "rancher-latest"
                  ? "latest"
                  : "stable",
              certManagerVersion: certManagerVersionFor(config.rancher.version, args.k3sVersion),
            }),
      kubeconfigCommands: args.kubeconfigFromStore
        ? [
            "# The first server stores its kubeconfig in the cluster's secret store once K3s serves; this fetches it (0600) and points it at an address you can reach:",
            "k3sinfra kubeconfig",
          ]
        : first
          ? [
              // The firewall opens 22 and 6443 only to nodes.adminCidrs; say so rather than print commands that hang.
              ...(config.nodes.adminCidrs.length === 0
                ? [
                    "# nodes.adminCidrs is empty, so 22 and 6443 are closed to this machine: add your address there and run `k3sinfra up`, or run these from inside the network.",
                  ]
                : []),
              ...kubeconfigCommands({
                firstServer: { address: first.publicIp ?? first.privateIp },
                hostname,
              }),
            ]
          : [],
    },
    secretsShown: showSecrets,
    ...(args.notice ? { notice: args.notice } : {}),
  };
}

/** What the last complete `up` applied, recorded in state with the outputs. */
export interface AppliedConfig {
  readonly config: ClusterConfig;
  readonly k3sVersion: string;
}

/** Top-level config keys whose values differ, for the "edited since the last up" notice. */
const changedKeys = (a: ClusterConfig, b: ClusterConfig): string[] =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter(
      (k) =>
        JSON.stringify((a as Record<string, unknown>)[k]) !==
        JSON.stringify((b as Record<string, unknown>)[k]),
    )
    .sort();

/**
 * Outputs from what was applied, not from the config as edited since: the hostname, node count, mode and
 * versions of the last complete `up`. When the config differs, the outputs say so.
 */
export function outputsFromState(args: {
  config: ClusterConfig;
  k3sVersion: string;
  state: ClusterState;
  showSecrets: boolean;
  datastoreTls: boolean;
  kubeconfigFromStore?: boolean;
}): ClusterOutputs {
  const applied = args.state.applied as AppliedConfig | undefined;
  // States from before `applied` existed: at least the hostname is the one fixed at creation.
  const config = applied?.config ?? {
    ...args.config,
    rancher: { ...args.config.rancher, hostname: args.state.hostname ?? args.config.rancher.hostname },
  };
  const changed = changedKeys(config, args.config);
  return buildOutputs({
    config,
    state: args.state,
    k3sVersion: applied?.k3sVersion ?? args.k3sVersion,
    showSecrets: args.showSecrets,
    datastoreTls: args.datastoreTls,
    kubeconfigFromStore: args.kubeconfigFromStore ?? false,
    ...(changed.length > 0
      ? {
          notice: `The config differs from what the last up applied (${changed.join(", ")}): these outputs describe the cluster as applied. Run \`k3sinfra plan\` to see the difference and \`k3sinfra up\` to apply it.`,
        }
      : {}),
  });
}

import {
  type BootstrapCommonInput,
  type BootstrapInput,
  certManagerVersionFor,
  type NodeSecretStore,
  RANCHER_DEFAULT_REPLICAS,
  type RancherInstallInput,
  rancherRelease,
  renderCloudInit,
  tlsSans,
} from "../bootstrap/index.js";
import type { ClusterConfig } from "../config/schema.js";
import type { NetworkState } from "../resources/network.js";
import { Secret } from "../secret.js";
import type { ClusterSecrets } from "../state/types.js";

/** Everything the node bootstrap needs that core knows before the node exists. */
export interface UserDataInput {
  readonly config: ClusterConfig;
  readonly index: number;
  readonly k3sVersion: string;
  /** The cluster's secrets; required without `secretStore` (they then go into the user data), else unused. */
  readonly secrets?: ClusterSecrets | undefined;
  /**
   * The cluster's secret store: where the orchestrator stored the secrets (`names`) and the compute
   * provider's node-side reader. When set, the user data carries the names only, never a value: the node
   * reads the token and the K3s datastore password at boot, server 0 the admin password only if it must
   * still create the K3s user, and stores its kubeconfig under `names.kubeconfig` when given; with
   * `rancher.install` it reads Rancher's bootstrap password (`names.rancherBootstrapPassword`, required then).
   * Pass the same names on every run (the admin one too, after retiring the secret): they are part of the
   * user data.
   */
  readonly secretStore?: NodeSecretStore | undefined;
  /** The compute provider's name and metadata reader (a shell function body printing a published value). */
  readonly provider: {
    readonly name: string;
    readonly metadataReader?: string | undefined;
    datastoreCaUrl?(region: string): string | undefined;
    /** Its capabilities: `l7SourceCidrs`, where its L7 balancer connects from. */
    readonly capabilities?: { readonly l7SourceCidrs?: readonly string[] | undefined };
  };
  /** The network the node joins; on L7 its subnets are the ranges the LB connects from. */
  readonly network: NetworkState | undefined;
}

/** What the user data says about the load balancer; also the source of the `tls-san` outputs show. */
export function userDataLoadBalancer(
  config: ClusterConfig,
  network: NetworkState | undefined,
  l7SourceCidrs?: readonly string[],
): BootstrapInput["loadBalancer"] {
  // Where the L7 balancer connects from: the provider's front-end ranges when it declares them, else the subnets.
  const sourceCidrs =
    l7SourceCidrs ?? (network?.subnets ?? []).map((s) => s.cidr).filter((c): c is string => c !== undefined);
  return { mode: config.loadBalancer.mode, ...(config.loadBalancer.mode === "l7" ? { sourceCidrs } : {}) };
}

/**
 * What server 0 installs with `rancher.install` (the default): the Rancher chart pinned to `rancher.version`,
 * `rancher.replicas` pods when set to a count (0–7), else `RANCHER_DEFAULT_REPLICAS` (`-1` counts the nodes
 * when the chart installs, before the other servers joined), and on L4 the cert-manager release the versions
 * table pins for this Rancher and K3s. Not the node count, so scaling never replaces server 0.
 */
export function rancherInstall(config: ClusterConfig, k3sVersion: string): RancherInstallInput | undefined {
  if (config.rancher.install !== true) return undefined;
  const replicas = config.rancher.replicas;
  const certManagerVersion =
    config.loadBalancer.mode === "l4" ? certManagerVersionFor(config.rancher.version, k3sVersion) : undefined;
  if (config.loadBalancer.mode === "l4" && certManagerVersion === undefined)
    throw new Error(`no cert-manager release is known for Rancher ${config.rancher.version}`);
  return {
    version: config.rancher.version,
    chartRepository: rancherRelease(config.rancher.version)?.chartRepository.url,
    replicas: replicas !== undefined && replicas >= 0 ? replicas : RANCHER_DEFAULT_REPLICAS,
    certManagerVersion,
  };
}

/** The `tls-san` list written on every server: one function for the user data and the outputs. */
export const serverTlsSans = (config: ClusterConfig, network: NetworkState | undefined): string[] =>
  tlsSans({ hostname: config.rancher.hostname, loadBalancer: userDataLoadBalancer(config, network) });

/**
 * The cloud-init user data for one server. It depends only on the config, the secrets (with `secretStore`:
 * their names and the reader, never a value) and the network, so nodes are created without waiting for the
 * datastore or the LB: values known later (datastore host, first server IP) are published to the nodes and
 * read at boot. Without a secret store it is byte-for-byte what it was before store mode existed.
 */
export function renderUserData(input: UserDataInput): string {
  const { config, index, secrets, secretStore } = input;
  const reader = input.provider.metadataReader;
  if (!reader)
    throw new Error(
      `provider ${input.provider.name} declares no metadataReader, so its nodes cannot learn the datastore endpoint at boot`,
    );
  const caUrl = input.provider.datastoreCaUrl?.(config.region);
  const common: BootstrapCommonInput = {
    index,
    k3sVersion: input.k3sVersion,
    hostname: config.rancher.hostname,
    loadBalancer: userDataLoadBalancer(config, input.network, input.provider.capabilities?.l7SourceCidrs),
    metadataReader: reader,
    // Server 0 only: other servers' user data does not change with Rancher's settings.
    ...(index === 0 ? { rancher: rancherInstall(config, input.k3sVersion) } : {}),
  };
  // K3s logs in as the least-privilege user. Server 0 creates it with the admin user when the readiness
  // check could not (the datastore is private, so usually only the nodes reach it).
  const datastore = {
    user: config.datastore.k3sUsername,
    database: config.datastore.databaseName,
    ...(caUrl ? { tls: { caUrl } } : {}),
  };
  const admin = config.datastore.username;
  let bootstrap: BootstrapInput;
  if (secretStore !== undefined) {
    const { names, reader: secretReader } = secretStore;
    bootstrap = {
      ...common,
      secretReader,
      secretNames: names,
      datastore: { ...datastore, ...(names.datastoreAdminPassword ? { admin: { user: admin } } : {}) },
    };
  } else {
    if (!secrets) throw new Error("cluster secrets are required in user data without a secret store");
    bootstrap = {
      ...common,
      token: new Secret(secrets.k3sToken),
      datastore: {
        ...datastore,
        password: new Secret(secrets.datastoreK3sPassword),
        admin: { user: admin, password: new Secret(secrets.datastorePassword) },
      },
      ...(common.rancher ? { rancherBootstrapPassword: new Secret(secrets.rancherBootstrapPassword) } : {}),
    };
  }
  return renderCloudInit(bootstrap);
}

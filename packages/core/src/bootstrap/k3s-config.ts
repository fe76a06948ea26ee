import type { Secret } from "../secret.js";

/** Where the bootstrap puts the K3s config and the datastore CA on every server. */
export const K3S_CONFIG_PATH = "/etc/rancher/k3s/config.yaml";
export const DATASTORE_CA_PATH = "/etc/rancher/k3s/datastore-ca.pem";
/**
 * The pod network: K3s's default `cluster-cidr` (https://docs.k3s.io/cli/server), which k3sinfra does not
 * change (the config file sets no `cluster-cidr`). Traefik trusts it on L7 (`renderTraefikConfig`).
 */
export const K3S_CLUSTER_CIDR = "10.42.0.0/16";

/** K3s's default `service-cidr` (https://docs.k3s.io/cli/server#networking), which k3sinfra does not change either. */
export const K3S_SERVICE_CIDR = "10.43.0.0/16";

const MASK = "********";

/** The parts of K3s's MySQL datastore endpoint. */
export interface DatastoreEndpointParts {
  readonly user: string;
  readonly password: Secret;
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

/** Brackets an IPv6 address for use before `:port`. */
export const hostForPort = (host: string): string => (host.includes(":") ? `[${host}]` : host);

/** The DSN with `address` (`host:port`) as given; the bootstrap template passes a placeholder. */
export const endpointFor = (user: string, password: string, address: string, database: string): string =>
  `mysql://${user}:${password}@tcp(${address})/${database}`;

/**
 * `mysql://user:pass@tcp(host:port)/db`, the go-sql-driver DSN K3s expects. There is deliberately no
 * `tls=` parameter: kine replaces it when `datastore-cafile` is set, and the docs say it cannot be used
 * (https://docs.k3s.io/datastore#datastore-endpoint-format-and-functionality, k3s-io/k3s#1093).
 */
export function datastoreEndpoint(parts: DatastoreEndpointParts, showSecrets = true): string {
  const password = showSecrets ? parts.password.reveal() : MASK;
  return endpointFor(parts.user, password, `${hostForPort(parts.host)}:${parts.port}`, parts.database);
}

/** What one server's `/etc/rancher/k3s/config.yaml` holds. */
export interface K3sConfigInput {
  /** Shared cluster token; identical on every server (k3sup#339, docs.k3s.io/cli/server). */
  readonly token: Secret;
  readonly datastore: DatastoreEndpointParts;
  /** Whether the datastore is verified with `DATASTORE_CA_PATH`. */
  readonly datastoreTls: boolean;
  /** The Rancher hostname first, then load balancer addresses. */
  readonly tlsSan: readonly string[];
  /** The server's private IP. */
  readonly nodeIp: string;
  /** False masks the token and password, for display. Default true: the file as written. */
  readonly showSecrets?: boolean;
}

// JSON strings are valid YAML double-quoted scalars, so every value is quoted the same safe way.
const q = (value: string): string => JSON.stringify(value);

/** The config file from already-formatted values (shared by `renderK3sConfig` and the boot template). */
export function k3sConfigYaml(v: {
  readonly token: string;
  readonly endpoint: string;
  readonly datastoreTls: boolean;
  readonly tlsSan: readonly string[];
  readonly nodeIp: string;
}): string {
  const lines = [
    "# Written by k3sinfra. Mode 0600: holds the cluster token and the datastore password.",
    `token: ${q(v.token)}`,
    `datastore-endpoint: ${q(v.endpoint)}`,
  ];
  if (v.datastoreTls) lines.push(`datastore-cafile: ${q(DATASTORE_CA_PATH)}`);
  lines.push("tls-san:", ...v.tlsSan.map((san) => `  - ${q(san)}`));
  lines.push(`node-ip: ${q(v.nodeIp)}`, `write-kubeconfig-mode: ${q("0600")}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The K3s server config file (mode 0600: it holds the token and the datastore password). No
 * `cluster-init` (that is embedded etcd) and Traefik/ServiceLB stay enabled: Rancher's ingress needs them
 * (https://docs.k3s.io/datastore/ha).
 */
export function renderK3sConfig(input: K3sConfigInput): string {
  const show = input.showSecrets ?? true;
  return k3sConfigYaml({
    token: show ? input.token.reveal() : MASK,
    endpoint: datastoreEndpoint(input.datastore, show),
    datastoreTls: input.datastoreTls,
    tlsSan: input.tlsSan,
    nodeIp: input.nodeIp,
  });
}

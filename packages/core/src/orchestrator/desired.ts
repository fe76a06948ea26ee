import type { NodeSecretReader } from "../bootstrap/index.js";
import type { ResolvedConfig } from "../config/resolve.js";
import type { ClusterConfig } from "../config/schema.js";
import { firewallRules } from "../network-rules.js";
import type { DatastoreSpec, DatastoreState } from "../resources/datastore.js";
import type { DnsRecordSpec, DnsTarget } from "../resources/dns-record.js";
import type { LoadBalancerSpec, LoadBalancerState } from "../resources/load-balancer.js";
import type { NetworkSpec, NetworkState } from "../resources/network.js";
import type { NodeSpec, NodeState } from "../resources/node.js";
import type { SecretKey, SecretsSpec } from "../resources/secret-store.js";
import { Secret } from "../secret.js";
import type { ClusterSecrets, ResourceKind } from "../state/types.js";
import { SECRET_LIFETIMES } from "./kinds/secrets.js";
import { hash } from "./kinds/shared.js";
import { renderUserData } from "./user-data.js";

// The graph is read off the kind table (`kinds/`); re-exported where callers have always found it.
export { desiredResources } from "./kinds/index.js";
export { usesSecretStore } from "./kinds/secrets.js";
export type { ResourceKind };

/** One resource the config asks for. */
export interface DesiredResource {
  readonly id: string;
  readonly kind: ResourceKind;
  readonly dependsOn: readonly string[];
  /** Name of the provider that manages it. */
  readonly provider: string;
}

/** The K3s version to install: the override, else the default for the Rancher version. */
export const k3sVersionOf = (config: ClusterConfig, defaultVersion: string): string =>
  config.k3s.version ?? defaultVersion;

/** Where the secrets live when the provider has a store: their names, and how a node reads one. */
export interface SecretPlacement {
  nameOf(key: SecretKey): string;
  readonly reader: NodeSecretReader;
}

/** Builds the specs of one cluster's resources (each kind's `inputs`, in `kinds/`, diff them). */
export class SpecBuilder {
  readonly #r: ResolvedConfig;
  readonly #secrets: ClusterSecrets | undefined;
  readonly #k3sVersion: string;
  readonly #store: SecretPlacement | undefined;

  constructor(
    resolved: ResolvedConfig,
    secrets: ClusterSecrets | undefined,
    k3sVersion: string,
    store?: SecretPlacement,
  ) {
    this.#r = resolved;
    this.#secrets = secrets;
    this.#k3sVersion = k3sVersion;
    this.#store = store;
  }

  /** The cluster's generated secrets, once there are some (inputs hash them). */
  get secrets(): ClusterSecrets | undefined {
    return this.#secrets;
  }

  /** The secrets to keep in the store; the admin password only until server 0 stored its kubeconfig. */
  secretsSpec(): SecretsSpec {
    const s = this.#secrets;
    if (!s) throw new Error("cluster secrets are generated before the secret store is filled");
    return {
      values: {
        "k3s-token": new Secret(s.k3sToken),
        "datastore-password": new Secret(s.datastoreK3sPassword),
        "datastore-admin-password": new Secret(s.datastorePassword),
        // Read by server 0 only when it installs Rancher (rancher.install).
        ...(this.config.rancher.install
          ? { "rancher-bootstrap-password": new Secret(s.rancherBootstrapPassword) }
          : {}),
      },
      until: SECRET_LIFETIMES,
    };
  }

  get config(): ClusterConfig {
    return this.#r.config;
  }

  networkSpec(): NetworkSpec {
    const c = this.config;
    return {
      zones: c.zones ?? [],
      rules: firewallRules({
        mode: c.loadBalancer.mode,
        clientCidrs: c.loadBalancer.clientCidrs,
        adminCidrs: c.nodes.adminCidrs,
        ssh: c.nodes.sshKeyName !== undefined,
        lbGroupAdmitsClients: this.#r.compute.provider.capabilities.loadBalancerFirewall === "group",
      }),
    };
  }

  userData(index: number, network: NetworkState | undefined): string {
    if (!this.#secrets) throw new Error("cluster secrets are generated before any node spec is built");
    const provider = this.#r.compute.provider;
    const store = this.#store;
    return renderUserData({
      config: this.config,
      index,
      k3sVersion: this.#k3sVersion,
      // With a store, the user data carries the names only: nodes read the values with their identity.
      ...(store
        ? {
            secretStore: {
              names: {
                k3sToken: store.nameOf("k3s-token"),
                datastorePassword: store.nameOf("datastore-password"),
                datastoreAdminPassword: store.nameOf("datastore-admin-password"),
                kubeconfig: store.nameOf("kubeconfig"),
                ...(this.config.rancher.install
                  ? { rancherBootstrapPassword: store.nameOf("rancher-bootstrap-password") }
                  : {}),
              },
              reader: store.reader,
            },
          }
        : { secrets: this.#secrets }),
      provider,
      network,
    });
  }

  nodeSpec(index: number, network: NetworkState): NodeSpec {
    const c = this.config;
    const zones = c.zones ?? [];
    const userData = this.userData(index, network);
    return {
      index,
      zone: zones[index % zones.length] ?? "",
      size: c.nodes.size,
      instanceType: c.nodes.instanceType,
      diskGiB: c.nodes.diskGiB,
      image: c.nodes.image,
      sshKeyName: c.nodes.sshKeyName,
      userData,
      userDataHash: hash(userData),
      network,
    };
  }

  datastoreSpec(network: NetworkState, overrides: Partial<DatastoreSpec> = {}): DatastoreSpec {
    const d = this.config.datastore;
    if (!this.#secrets) throw new Error("cluster secrets are generated before the datastore spec is built");
    return {
      engine: d.engine,
      version: d.version,
      size: d.size,
      instanceClass: d.instanceClass,
      storageGiB: d.storageGiB,
      highAvailability: d.highAvailability,
      deletionProtection: d.deletionProtection,
      backupRetentionDays: d.backupRetentionDays,
      username: d.username,
      password: new Secret(this.#secrets.datastorePassword),
      network,
      ...overrides,
    };
  }

  loadBalancerSpec(network: NetworkState): LoadBalancerSpec {
    const lb = this.config.loadBalancer;
    return {
      mode: lb.mode,
      zones: this.config.zones ?? [],
      certificate: lb.certificate,
      // TCP on 80 for L4: an HTTP check carries no Host header and Traefik answers 404 (https://github.com/rancher/docs/issues/1241).
      healthCheck:
        lb.mode === "l4"
          ? {
              protocol: "tcp",
              port: 80,
              intervalSeconds: 10,
              timeoutSeconds: 6,
              healthyThreshold: 3,
              unhealthyThreshold: 3,
            }
          : {
              protocol: "http",
              port: 80,
              path: "/healthz",
              intervalSeconds: 10,
              timeoutSeconds: 6,
              healthyThreshold: 3,
              unhealthyThreshold: 3,
            },
      idleTimeoutSeconds: lb.idleTimeoutSeconds,
      crossZone: true,
      network,
    };
  }

  /** Picks the record type: an alias where the DNS and the LB share a provider, else A to IPs, else CNAME. */
  dnsTarget(lb: LoadBalancerState): DnsTarget {
    const types = this.#r.dns.provider.capabilities.dnsRecordTypes ?? ["A", "CNAME"];
    const sameCloud = this.#r.dns.provider === this.#r.compute.provider;
    if (sameCloud && lb.alias && types.includes("ALIAS"))
      return { type: "ALIAS", dnsName: lb.alias.dnsName, zoneId: lb.alias.zoneId };
    if (lb.ips && lb.ips.length > 0 && types.includes("A")) return { type: "A", addresses: lb.ips };
    if (lb.hostname && types.includes("CNAME")) return { type: "CNAME", hostname: lb.hostname };
    throw new Error(
      `DNS provider ${this.#r.dns.provider.name} cannot point at load balancer ${lb.name} (no matching record type)`,
    );
  }

  dnsSpec(lb: LoadBalancerState): DnsRecordSpec {
    return {
      zone: this.config.dns.zone,
      hostname: this.config.rancher.hostname,
      target: this.dnsTarget(lb),
      ttl: this.config.dns.ttl,
      proxied: this.config.dns.proxied,
    };
  }

  /** Values nodes read at boot, published once the datastore and nodes exist. */
  bootstrapValues(datastore: DatastoreState, first: NodeState): Record<string, string> {
    return {
      "datastore-host": datastore.host,
      "datastore-port": String(datastore.port),
      "first-server-ip": first.privateIp,
    };
  }
}

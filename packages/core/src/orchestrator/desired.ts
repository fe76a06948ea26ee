import { createHash } from "node:crypto";
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
import { renderUserData } from "./user-data.js";

export type { ResourceKind };

/** One resource the config asks for. */
export interface DesiredResource {
  readonly id: string;
  readonly kind: ResourceKind;
  readonly dependsOn: readonly string[];
  /** Name of the provider that manages it. */
  readonly provider: string;
}

export const nodeId = (i: number) => `node-${i}`;

/**
 * Secrets kept only until another exists: the datastore admin password until server 0 stored its kubeconfig
 * (K3s runs, so its datastore user exists and no node needs the admin password again).
 */
export const SECRET_LIFETIMES: Readonly<Partial<Record<SecretKey, SecretKey>>> = {
  "datastore-admin-password": "kubeconfig",
};

/** Whether the cluster keeps its secrets in the compute provider's secret store (else in user data). */
export const usesSecretStore = (r: ResolvedConfig): boolean => r.compute.roles.includes("secretStore");

/** The dependency graph: network; then datastore, nodes and LB in parallel; then targets, DNS, bootstrap. */
export function desiredResources(r: ResolvedConfig): DesiredResource[] {
  const compute = r.compute.provider.name;
  const nodes = Array.from({ length: r.config.nodes.count }, (_, i) => nodeId(i));
  const store = usesSecretStore(r);
  // Nodes read their secrets at boot, so the store is filled before any node exists.
  const nodeDeps = store ? ["network", "secrets"] : ["network"];
  return [
    { id: "network", kind: "network", dependsOn: [], provider: compute },
    ...(store
      ? [{ id: "secrets", kind: "secrets", dependsOn: [], provider: compute } as DesiredResource]
      : []),
    { id: "datastore", kind: "datastore", dependsOn: ["network"], provider: compute },
    ...nodes.map((id): DesiredResource => ({ id, kind: "nodes", dependsOn: nodeDeps, provider: compute })),
    { id: "load-balancer", kind: "loadBalancer", dependsOn: ["network"], provider: compute },
    { id: "lb-targets", kind: "targets", dependsOn: ["load-balancer", ...nodes], provider: compute },
    { id: "dns-record", kind: "dns", dependsOn: ["load-balancer"], provider: r.dns.provider.name },
    { id: "bootstrap", kind: "bootstrap", dependsOn: ["datastore", ...nodes], provider: compute },
  ];
}

const hash = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);
const str = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v ?? null));

/** Live or recorded states of the resources a spec depends on. */
export type StateLookup = (id: string) => Record<string, unknown> | undefined;

/** The K3s version to install: the override, else the default for the Rancher version. */
export const k3sVersionOf = (config: ClusterConfig, defaultVersion: string): string =>
  config.k3s.version ?? defaultVersion;

/** Where the secrets live when the provider has a store: their names, and how a node reads one. */
export interface SecretPlacement {
  nameOf(key: SecretKey): string;
  readonly reader: NodeSecretReader;
}

/** Builds specs and diffable inputs for one cluster. Inputs hold no secret, only hashes of them. */
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
      // TCP on 80 for L4: an HTTP check carries no Host header and Traefik answers 404 (anchors-k3s.md B.4).
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

  /**
   * Diffable inputs of a resource. Values that come from dependencies use the recorded states; a missing
   * dependency yields `(known after apply)`, which always differs, so dependents follow their dependencies.
   */
  inputs(d: DesiredResource, lookup: StateLookup): Record<string, string> {
    const c = this.config;
    const after = "(known after apply)";
    switch (d.kind) {
      case "network": {
        const s = this.networkSpec();
        return { zones: str(s.zones), rules: hash(str(s.rules)) };
      }
      case "nodes": {
        const index = Number(d.id.slice("node-".length));
        return {
          zone: (c.zones ?? [])[index % (c.zones?.length ?? 1)] ?? "",
          size: str(c.nodes.size),
          instanceType: c.nodes.instanceType ?? "",
          diskGiB: String(c.nodes.diskGiB),
          image: c.nodes.image,
          sshKeyName: c.nodes.sshKeyName ?? "",
          userDataHash:
            this.#secrets && lookup("network")
              ? hash(this.userData(index, lookup("network") as unknown as NetworkState))
              : after,
          network: str(lookup("network")?.id ?? after),
        };
      }
      case "datastore": {
        const ds = c.datastore;
        return {
          engine: ds.engine,
          version: ds.version,
          size: str(ds.size),
          instanceClass: ds.instanceClass ?? "",
          storageGiB: String(ds.storageGiB),
          highAvailability: String(ds.highAvailability),
          deletionProtection: String(ds.deletionProtection),
          backupRetentionDays: String(ds.backupRetentionDays),
          username: ds.username,
          network: str(lookup("network")?.id ?? after),
        };
      }
      case "loadBalancer": {
        const lb = c.loadBalancer;
        return {
          mode: lb.mode,
          zones: str(c.zones),
          certificate: lb.certificate ?? "",
          idleTimeoutSeconds: String(lb.idleTimeoutSeconds),
          crossZone: "true",
          network: str(lookup("network")?.id ?? after),
        };
      }
      case "targets": {
        const nodes = d.dependsOn.filter((x) => x.startsWith("node-")).map((x) => lookup(x)?.id ?? after);
        return { loadBalancer: str(lookup("load-balancer")?.id ?? after), nodes: str(nodes) };
      }
      case "dns": {
        const lb = lookup("load-balancer") as LoadBalancerState | undefined;
        return {
          hostname: c.rancher.hostname,
          zone: c.dns.zone,
          ttl: String(c.dns.ttl),
          proxied: String(c.dns.proxied),
          target: lb ? str(this.dnsTarget(lb)) : after,
        };
      }
      case "secrets": {
        const s = this.#secrets;
        // Hashes of random secrets: a changed value is an update, never readable from the state.
        return s
          ? {
              "k3s-token": hash(s.k3sToken),
              "datastore-password": hash(s.datastoreK3sPassword),
              "datastore-admin-password": hash(s.datastorePassword),
              ...(c.rancher.install
                ? { "rancher-bootstrap-password": hash(s.rancherBootstrapPassword) }
                : {}),
            }
          : { values: after };
      }
      case "bootstrap": {
        const ds = lookup("datastore") as DatastoreState | undefined;
        const nodes = d.dependsOn.filter((x) => x.startsWith("node-")).map((x) => lookup(x)?.id ?? after);
        return { datastore: ds ? `${ds.host}:${ds.port}` : after, nodes: str(nodes) };
      }
    }
  }
}

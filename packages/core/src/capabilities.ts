import type { DatastoreEngine } from "./resources/datastore.js";
import type { LoadBalancerMode } from "./resources/load-balancer.js";

/** The contracts a provider can implement. */
export type ServiceKind = "network" | "nodes" | "datastore" | "loadBalancer" | "dns";

/**
 * What a provider can do, as data. Core checks a config against it at plan time, so an unsupported choice
 * (L7 on a provider without it, say) is a config error before any cloud call.
 */
export interface ProviderCapabilities {
  /** Contracts implemented. A DNS-only provider (Cloudflare) lists just `dns`. */
  readonly services: readonly ServiceKind[];
  /** Load balancer layers offered. Default: none. */
  readonly loadBalancerModes?: readonly LoadBalancerMode[];
  /** How the LB is addressed: fixed IPs (A records) or a cloud host name (CNAME or alias). */
  readonly loadBalancerAddress?: "ip" | "hostname";
  /**
   * How client traffic reaches the nodes through an L4 balancer that preserves client IPs. `group`: the LB has
   * its own firewall group, and a node rule naming that group admits the clients (AWS NLB with security
   * groups), so the nodes never open 80/443 to client ranges. `passthrough` (default): packets arrive from the
   * clients' addresses, which the nodes must admit.
   */
  readonly loadBalancerFirewall?: "group" | "passthrough";
  /** Whether L7 needs `loadBalancer.certificate` in the config (false when the provider issues one). */
  readonly l7NeedsCertificate?: boolean;
  /** Record types the DNS service writes. `ALIAS` works only with an LB of the same provider. */
  readonly dnsRecordTypes?: readonly ("A" | "CNAME" | "ALIAS")[];
  /** Whether the DNS service can proxy traffic (Cloudflare). */
  readonly dnsProxy?: boolean;
  /** Datastore engines with the major versions offered. */
  readonly datastoreEngines?: readonly {
    readonly engine: DatastoreEngine;
    readonly versions: readonly string[];
  }[];
  /** Whether the datastore requires TLS from clients (a CA file then goes to K3s). */
  readonly datastoreTls?: "required" | "optional";
  /** Zones per region known offline, used to default and check `zones`; unset: not checked at plan time. */
  readonly zones?: Readonly<Record<string, readonly string[]>>;
  /** Environment variables that hold credentials, named in errors. */
  readonly credentialEnv?: readonly string[];
}

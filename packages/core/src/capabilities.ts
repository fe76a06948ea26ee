import type { DatastoreEngine } from "./resources/datastore.js";
import type { LoadBalancerMode } from "./resources/load-balancer.js";

/** The contracts a provider can implement. */
export type ServiceKind = "network" | "nodes" | "datastore" | "loadBalancer" | "dns" | "secretStore";

/**
 * What a provider can do, as data. Core checks a config against it at plan time, so an unsupported choice
 * (L7 on a provider without it, say) is a config error before any cloud call.
 */
export interface ProviderCapabilities {
  /**
   * Contracts implemented. A DNS-only provider lists just `dns`. A compute provider that lists
   * `secretStore` keeps the cluster's secrets there and its nodes read them with their own identity (with a
   * `secretReader` on the descriptor); without it, secrets go in user data, with a warning at plan time.
   */
  readonly services: readonly ServiceKind[];
  /** Load balancer layers offered. Default: none. */
  readonly loadBalancerModes?: readonly LoadBalancerMode[];
  /** How the LB is addressed: fixed IPs (A records) or a cloud host name (CNAME or alias). */
  readonly loadBalancerAddress?: "ip" | "hostname";
  /**
   * How client traffic reaches the nodes through an L4 balancer that preserves client IPs. `group`: the LB has
   * its own firewall group, and a node rule naming that group admits the clients (a network load balancer
   * with security groups), so the nodes never open 80/443 to client ranges. `passthrough` (default): packets arrive from the
   * clients' addresses, which the nodes must admit.
   */
  readonly loadBalancerFirewall?: "group" | "passthrough";
  /**
   * Who enforces the K3s port matrix. `managed` (default): the provider's network service opens exactly those
   * rules. `external`: it cannot own a firewall (existing hosts behind the operator's own), so `plan` lists the
   * rules for the user to open (`Plan.notes`).
   */
  readonly firewall?: "managed" | "external";
  /** Whether L7 needs `loadBalancer.certificate` in the config (false when the provider issues one). */
  readonly l7NeedsCertificate?: boolean;
  /**
   * Where an L7 load balancer's connections to the nodes come from when that is not the cluster's own subnets
   * (a global front end's address ranges): Traefik trusts `X-Forwarded-*` from these. Absent: the subnets.
   */
  readonly l7SourceCidrs?: readonly string[];
  /** Record types the DNS service writes. `ALIAS` works only with an LB of the same provider. */
  readonly dnsRecordTypes?: readonly ("A" | "CNAME" | "ALIAS")[];
  /** Whether the DNS service can proxy traffic (a CDN in front of the record). */
  readonly dnsProxy?: boolean;
  /** Datastore engines with the major versions offered. */
  readonly datastoreEngines?: readonly {
    readonly engine: DatastoreEngine;
    readonly versions: readonly string[];
    /**
     * Last day (YYYY-MM-DD) of the cloud's standard support per version; a version within 180 days of it,
     * or past it, is a risky choice (a warning in `plan`, an error with `--strict`).
     */
    readonly endOfSupport?: Readonly<Record<string, string>>;
  }[];
  /**
   * Who checks the datastore server before K3s uses it. `core` (default): core connects from this machine as
   * `datastore.check` says. `provider`: the datastore service checks the server itself when it creates the
   * database (an existing server, whose cluster user may not read `mysql.*` as core's check does), so core
   * skips its own under `auto` and refuses `required`.
   */
  readonly datastoreCheck?: "core" | "provider";
  /** Whether the datastore requires TLS from clients (a CA file then goes to K3s). */
  readonly datastoreTls?: "required" | "optional";
  /** Zones per region known offline, used to default and check `zones`; unset: not checked at plan time. */
  readonly zones?: Readonly<Record<string, readonly string[]>>;
  /**
   * Rules the cloud puts on names and values k3sinfra derives from the config (a DB identifier, an LB name,
   * a change comment), checked at plan time so a name the cloud would refuse never gets as far as a call.
   */
  readonly names?: readonly NameRule[];
  /** Environment variables that hold credentials, named in errors. */
  readonly credentialEnv?: readonly string[];
}

/**
 * One rule a cloud puts on a derived name or value, as data. `template` says how the value is built:
 * `{cluster}` is the config's `name`, `{hostname}` is `rancher.hostname`, and `{<resource>}` is the physical
 * name core gives a graph resource (`{datastore}`, `{load-balancer}`, `{network}`, `{node}` — every node, with
 * the generation suffix a rolling replacement adds), e.g. `{load-balancer}-443` for a target group.
 */
export interface NameRule {
  /** What the cloud calls it, for messages: "DB instance identifier". */
  readonly object: string;
  readonly template: string;
  /** Only checked when the provider plays this role for the cluster. */
  readonly role?: ServiceKind;
  readonly maxLength: number;
  /** The characters allowed, as a whole-value pattern, with how to say it in a message. */
  readonly pattern?: RegExp;
  readonly patternHint?: string;
  readonly startsWithLetter?: boolean;
  readonly noDoubleHyphen?: boolean;
  readonly noLeadingHyphen?: boolean;
  readonly noTrailingHyphen?: boolean;
  /** Where the cloud documents the rule. */
  readonly docs?: string;
}

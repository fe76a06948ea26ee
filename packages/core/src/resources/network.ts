import { token } from "../tokens.js";
import type { ResourceService, ResourceState } from "./common.js";

/** The three firewall groups every provider builds. */
export type FirewallGroup = "nodes" | "loadBalancer" | "datastore";

/** Where traffic may come from: another group, or address ranges. */
export type FirewallSource = { readonly group: FirewallGroup } | { readonly cidrs: readonly string[] };

/** One ingress rule, computed by core from the K3s port matrix (see `firewallRules`). */
export interface FirewallRule {
  /** The group the rule opens. */
  readonly group: FirewallGroup;
  /** IP protocol. */
  readonly protocol: "tcp" | "udp";
  /** Destination port. */
  readonly port: number;
  /** Who may connect. */
  readonly from: FirewallSource;
  /** Why the rule exists, written into the cloud's rule description. */
  readonly description: string;
}

/** What the network must provide. */
export interface NetworkSpec {
  /** Zones the cluster spans, one subnet per zone. */
  readonly zones: readonly string[];
  /** An existing network (the cloud's virtual network id) to use; unset: the cloud's default network, or one the provider creates. */
  readonly networkId?: string | undefined;
  /** Existing subnets to use, by zone; unset: the provider picks or creates one per zone. */
  readonly subnetIds?: Readonly<Record<string, string>> | undefined;
  /** Ingress rules for the three groups. */
  readonly rules: readonly FirewallRule[];
}

/** The network as built. */
export interface NetworkState extends ResourceState {
  /** The virtual network's id. */
  readonly networkId: string;
  /** One subnet per zone. */
  readonly subnets: readonly {
    readonly zone: string;
    readonly id: string;
    readonly cidr?: string | undefined;
  }[];
  /** Provider ids of the three firewall groups. */
  readonly groups: Readonly<Record<FirewallGroup, string>>;
  /**
   * The identity nodes run as, where the cloud needs one for them to read their secrets (e.g. an instance
   * profile name); `""` when it went missing, which is drift the network's `update` repairs.
   */
  readonly nodeIdentity?: string | undefined;
  /** Number of rules in place, for drift reports. */
  readonly ruleCount: number;
  /** A digest of the ingress rules actually in place, so a rule changed outside k3sinfra shows as drift. */
  readonly rulesDigest?: string | undefined;
}

/** Network, subnets and firewall groups. */
export interface NetworkService extends ResourceService<NetworkSpec, NetworkState> {}

/** Injection token for the NetworkService contract. */
export const NetworkService = token<NetworkService>("NetworkService");

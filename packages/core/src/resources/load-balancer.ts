import { token } from "../tokens.js";
import type { ResourceContext, ResourceService, ResourceState } from "./common.js";
import type { NetworkState } from "./network.js";
import type { NodeState } from "./node.js";

/** `l4`: TCP 80/443 passed to Traefik on the nodes. `l7`: TLS ends at the LB, Rancher runs with `tls=external`. */
export type LoadBalancerMode = "l4" | "l7";

/** Health check settings; core sends TCP on port 80 for L4 (an HTTP check without Host gets Traefik's 404). */
export interface HealthCheck {
  readonly protocol: "tcp" | "http";
  readonly port: number;
  /** Path for HTTP checks. */
  readonly path?: string | undefined;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

/** What the Rancher load balancer must be. */
export interface LoadBalancerSpec {
  /** Layer. */
  readonly mode: LoadBalancerMode;
  /** Zones to serve from. */
  readonly zones: readonly string[];
  /** Certificate reference for L7 in the provider's terms (a certificate id, name or secret id). */
  readonly certificate?: string | undefined;
  /** Health check for the targets. */
  readonly healthCheck: HealthCheck;
  /** Idle timeout where configurable; Rancher's websockets want ≥ 1800 s. */
  readonly idleTimeoutSeconds: number;
  /** Spread traffic over healthy targets in every zone. */
  readonly crossZone: boolean;
  /** The network. */
  readonly network: NetworkState;
}

/** A load balancer as built. */
export interface LoadBalancerState extends ResourceState {
  /** Physical name. */
  readonly name: string;
  /** Layer. */
  readonly mode: LoadBalancerMode;
  /** DNS name the cloud gives the LB, if it has one. */
  readonly hostname?: string | undefined;
  /** Fixed public IPs, if it has them. */
  readonly ips?: readonly string[] | undefined;
  /** For alias records in the same cloud's DNS: the LB's hosted zone and DNS name. */
  readonly alias?: { readonly zoneId: string; readonly dnsName: string } | undefined;
  /** Address ranges the LB connects to the nodes from (for Traefik's trusted forwarded headers on L7). */
  readonly sourceCidrs?: readonly string[] | undefined;
  /** The provider's lifecycle state, e.g. `active`. */
  readonly status: string;
}

/** Which nodes the LB sends traffic to. */
export interface TargetsState extends ResourceState {
  /** Node ids registered. */
  readonly nodeIds: readonly string[];
  /** Node ids the load balancer currently reports healthy; undefined where the cloud cannot tell. */
  readonly healthy?: readonly string[] | undefined;
}

/** The load balancer in front of Rancher, and its targets. */
export interface LoadBalancerService extends ResourceService<LoadBalancerSpec, LoadBalancerState> {
  /** Registers exactly these nodes (deregistering others) and returns once registered. */
  setTargets(lb: LoadBalancerState, nodes: readonly NodeState[], ctx: ResourceContext): Promise<TargetsState>;
  /** Reads the registered nodes; `undefined` when the LB is gone. */
  getTargets(lb: LoadBalancerState, ctx: ResourceContext): Promise<TargetsState | undefined>;
}

/** Injection token for the LoadBalancerService contract. */
export const LoadBalancerService = token<LoadBalancerService>("LoadBalancerService");

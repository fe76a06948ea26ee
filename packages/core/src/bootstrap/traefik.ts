import type { LoadBalancerMode } from "../resources/load-balancer.js";
import { K3S_CLUSTER_CIDR } from "./k3s-config.js";

/** Where K3s's deploy controller picks up manifests at start; the HelmChartConfig goes there. */
export const TRAEFIK_CONFIG_PATH = "/var/lib/rancher/k3s/server/manifests/traefik-config.yaml";

/** Traefik pods: one per node of a 2-node cluster, so ingress survives losing a node. */
export const TRAEFIK_REPLICAS = 2;

/**
 * K3s's packaged Traefik, customized with a HelmChartConfig
 * (https://docs.k3s.io/helm#customizing-packaged-components-with-helmchartconfig), on every server (the same
 * file, so the servers' deploy controllers agree):
 * - 2 replicas, preferably on different nodes: with K3s's default single replica, ingress is down until
 *   Kubernetes reschedules it when its node dies (minutes).
 * - On L7 (`tls=external`), `ports.web.forwardedHeaders.trustedIPs` (K3s's documented value path): Traefik
 *   must trust `X-Forwarded-Proto` from the load balancer, or Rancher sees plain HTTP and redirects forever
 *   (rancher/rancher#42279, #43875; rancher-docs#458). The LB's ranges alone are not enough: traffic reaches
 *   Traefik through K3s's ServiceLB (klipper-lb), which masquerades the source to a pod address, so the pod
 *   CIDR (`podCidr`, K3s's `cluster-cidr`, default 10.42.0.0/16: https://docs.k3s.io/cli/server) is trusted
 *   too. That is safe: node port 80 accepts only the load balancer's security group, so whatever a pod
 *   address forwards came from the LB. No `proxyProtocol`: an L7 load balancer does not send it.
 */
export function renderTraefikConfig(o: {
  readonly mode: LoadBalancerMode;
  /** L7: the ranges the load balancer connects from (the network's subnets). */
  readonly trustedCidrs?: readonly string[] | undefined;
  readonly podCidr?: string | undefined;
}): string {
  const trusted = [...new Set([...(o.trustedCidrs ?? []), o.podCidr ?? K3S_CLUSTER_CIDR])];
  return [
    `# Written by k3sinfra: ${TRAEFIK_REPLICAS} Traefik replicas${o.mode === "l7" ? "; forwarded headers trusted from the L7 load balancer (its subnets, and the pod CIDR ServiceLB forwards from)" : ""}.`,
    "apiVersion: helm.cattle.io/v1",
    "kind: HelmChartConfig",
    "metadata:",
    "  name: traefik",
    "  namespace: kube-system",
    "spec:",
    "  valuesContent: |-",
    "    deployment:",
    `      replicas: ${TRAEFIK_REPLICAS}`,
    "    affinity:",
    "      podAntiAffinity:",
    "        preferredDuringSchedulingIgnoredDuringExecution:",
    "          - weight: 100",
    "            podAffinityTerm:",
    "              topologyKey: kubernetes.io/hostname",
    "              labelSelector:",
    "                matchLabels:",
    "                  app.kubernetes.io/name: traefik",
    ...(o.mode === "l7"
      ? [
          "    ports:",
          "      web:",
          "        forwardedHeaders:",
          "          trustedIPs:",
          ...trusted.map((cidr) => `            - ${JSON.stringify(cidr)}`),
        ]
      : []),
    "",
  ].join("\n");
}

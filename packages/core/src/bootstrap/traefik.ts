/** Where K3s's deploy controller picks up manifests at start; the HelmChartConfig goes there. */
export const TRAEFIK_CONFIG_PATH = "/var/lib/rancher/k3s/server/manifests/traefik-config.yaml";

/**
 * For L7 (`tls=external`): Traefik must trust `X-Forwarded-*` from the load balancer, or Rancher sees plain
 * HTTP and redirects forever (rancher/rancher#42279, #43875; rancher-docs#458). The value path
 * `ports.web.forwardedHeaders.trustedIPs` is K3s's documented one (https://docs.k3s.io/helm, k3s-io/docs#233).
 */
export function renderTraefikConfig(trustedCidrs: readonly string[]): string {
  return [
    "# Written by k3sinfra: trust forwarded headers from the L7 load balancer only.",
    "apiVersion: helm.cattle.io/v1",
    "kind: HelmChartConfig",
    "metadata:",
    "  name: traefik",
    "  namespace: kube-system",
    "spec:",
    "  valuesContent: |-",
    "    ports:",
    "      web:",
    "        forwardedHeaders:",
    "          trustedIPs:",
    ...trustedCidrs.map((cidr) => `            - ${JSON.stringify(cidr)}`),
    "",
  ].join("\n");
}

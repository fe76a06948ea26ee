import { K3S_CLUSTER_CIDR, K3S_SERVICE_CIDR } from "../bootstrap/k3s-config.js";
import { InvalidConfigError } from "../errors.js";
import type { NetworkState } from "../resources/network.js";

/** An IPv4 CIDR's first and last address as numbers; undefined for anything else (IPv6, a malformed value). */
function range(cidr: string): [number, number] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const ip = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - bits);
  const start = ip - (ip % size);
  return [start, start + size - 1];
}

/** Whether two IPv4 CIDRs share an address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = range(a);
  const y = range(b);
  return x !== undefined && y !== undefined && x[0] <= y[1] && y[0] <= x[1];
}

/**
 * Refuses a network whose subnets overlap K3s's pod or service network, before any server is made in it. K3s
 * keeps its defaults here (`cluster-cidr` 10.42.0.0/16, `service-cidr` 10.43.0.0/16), and they must not overlap
 * the nodes' own network (https://docs.k3s.io/cli/server#networking): a node address inside the pod network
 * collides with the pod subnet flannel hands a node, so servers cannot reach their pods.
 */
export function assertClearOfK3sNetworks(network: NetworkState, provider: string): void {
  const issues = network.subnets.flatMap((s) => {
    const hit = s.cidr && [K3S_CLUSTER_CIDR, K3S_SERVICE_CIDR].find((k) => cidrsOverlap(s.cidr!, k));
    if (!hit) return [];
    const what = hit === K3S_CLUSTER_CIDR ? "pod" : "service";
    return [
      {
        path: `options.${provider}`,
        message: `the network's subnet ${s.id} (${s.cidr}) overlaps K3s's ${what} network ${hit}, so servers there could not reach their pods: choose a network and subnets outside 10.42.0.0/15 (this provider's network options), then run up again`,
      },
    ];
  });
  if (issues.length > 0) throw new InvalidConfigError(issues);
}

import type { LoadBalancerMode } from "./resources/load-balancer.js";
import type { FirewallRule } from "./resources/network.js";

export interface FirewallInputs {
  readonly mode: LoadBalancerMode;
  /** Who may reach Rancher through the LB. */
  readonly clientCidrs: readonly string[];
  /** Who may reach the K3s API and SSH directly; empty means nobody. */
  readonly adminCidrs: readonly string[];
  /** Whether SSH is wanted at all (an SSH key is configured). */
  readonly ssh: boolean;
  /** The L4 balancer's own group admits clients for the nodes (see `ProviderCapabilities.loadBalancerFirewall`). */
  readonly lbGroupAdmitsClients?: boolean;
}

/**
 * The K3s port matrix as data (https://docs.k3s.io/installation/requirements#networking). Every provider builds exactly
 * these rules; nothing else is opened. 8472/udp, 10250/tcp and 3306/tcp are never open to address ranges.
 */
export function firewallRules(input: FirewallInputs): FirewallRule[] {
  const rules: FirewallRule[] = [
    {
      group: "nodes",
      protocol: "tcp",
      port: 6443,
      from: { group: "nodes" },
      description: "K3s API between servers",
    },
    {
      group: "nodes",
      protocol: "tcp",
      port: 10250,
      from: { group: "nodes" },
      description: "kubelet metrics between nodes",
    },
    {
      group: "nodes",
      protocol: "udp",
      port: 8472,
      from: { group: "nodes" },
      description: "Flannel VXLAN between nodes",
    },
    {
      group: "datastore",
      protocol: "tcp",
      port: 3306,
      from: { group: "nodes" },
      description: "MySQL from K3s servers only",
    },
  ];
  if (input.mode === "l4") {
    // An L4 balancer that preserves client IPs delivers packets from the clients themselves
    // (https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/#preserving-the-client-source-ip),
    // so without a balancer group the nodes must admit the client ranges. Where the balancer has a group, a
    // rule naming it admits those clients and nodes stay closed to direct access (the provider cites its cloud's rule).
    for (const port of [80, 443]) {
      rules.push(
        {
          group: "loadBalancer",
          protocol: "tcp",
          port,
          from: { cidrs: input.clientCidrs },
          description: `Rancher ${port}/tcp from clients`,
        },
        {
          group: "nodes",
          protocol: "tcp",
          port,
          from: { group: "loadBalancer" },
          description: `Traefik ${port}/tcp from the load balancer`,
        },
      );
      if (!input.lbGroupAdmitsClients) {
        rules.push({
          group: "nodes",
          protocol: "tcp",
          port,
          from: { cidrs: input.clientCidrs },
          description: `Traefik ${port}/tcp from clients (client IP preserved)`,
        });
      }
    }
  } else {
    // L7: TLS ends at the LB, which speaks plain HTTP to :80 on the nodes; only the LB may do so.
    for (const port of [80, 443]) {
      rules.push({
        group: "loadBalancer",
        protocol: "tcp",
        port,
        from: { cidrs: input.clientCidrs },
        description: `Rancher ${port}/tcp from clients`,
      });
    }
    rules.push({
      group: "nodes",
      protocol: "tcp",
      port: 80,
      from: { group: "loadBalancer" },
      description: "Traefik 80/tcp from the L7 load balancer only",
    });
  }
  if (input.adminCidrs.length > 0) {
    rules.push({
      group: "nodes",
      protocol: "tcp",
      port: 6443,
      from: { cidrs: input.adminCidrs },
      description: "K3s API from the admin allow-list",
    });
    if (input.ssh) {
      rules.push({
        group: "nodes",
        protocol: "tcp",
        port: 22,
        from: { cidrs: input.adminCidrs },
        description: "SSH from the admin allow-list",
      });
    }
  }
  return rules;
}

/** One rule of the port matrix in words, e.g. `nodes: tcp/6443 from the nodes hosts (K3s API between servers)`. */
export const describeFirewallRule = (r: FirewallRule): string =>
  `${r.group}: ${r.protocol}/${r.port} from ${"group" in r.from ? `the ${r.from.group} hosts` : r.from.cidrs.join(", ")} (${r.description})`;

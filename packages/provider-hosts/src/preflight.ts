import { type ClusterConfig, ProviderError, type ServiceKind } from "@k3sinfra/core";
import type { HostsDatastoreService } from "./datastore.js";
import type { Hosts } from "./hosts.js";
import { type SshTarget, withSsh } from "./ssh/session.js";

/**
 * Read-only checks before anything changes: every host answers over SSH with a trusted host key and runs
 * commands as root (directly or with passwordless sudo); nodes have systemd and curl; the ports of the K3s
 * matrix that this machine can test are reachable between the hosts (a refused connection proves the path is
 * open, no answer says a firewall drops it: https://docs.k3s.io/installation/requirements#networking); the
 * datastore accepts the admin and is a server K3s supports. On `destroy`, only SSH and root.
 */
export async function hostsPreflight(args: {
  hosts: Hosts;
  datastore: HostsDatastoreService | undefined;
  config: ClusterConfig;
  roles: readonly ServiceKind[];
  operation: "up" | "destroy" | undefined;
  signal: AbortSignal;
}): Promise<void> {
  const { hosts, roles } = args;
  const problems: string[] = [];
  const nodes = roles.includes("nodes") ? hosts.nodeTargets() : [];
  const lb = roles.includes("loadBalancer") ? [hosts.loadBalancer()] : [];
  const probe = (from: SshTarget, checks: string) =>
    withSsh(from, hosts.auth, (s) => s.exec(`${checks}\n:`), args.signal).then(
      (r) => {
        if (r.code !== 0 || r.stdout.trim() !== "")
          problems.push(
            `${from.host} (${from.path}): ${(r.stdout + r.stderr).trim().split("\n").join("; ")}`,
          );
      },
      (error: unknown) => {
        // A refused host key or login stops everything at once: nothing else matters until it is fixed.
        if (error instanceof ProviderError && !error.retryable) throw error;
        problems.push(error instanceof Error ? error.message : String(error));
      },
    );
  // Prints one line per port a firewall drops: bash's /dev/tcp connect exits 0 (open) or 1 (refused: the path
  // is open, nothing listens yet), and `timeout` 124 when no answer comes (dropped).
  const reach = (targets: { host: string; port: number }[]) =>
    targets
      .map(
        (t) =>
          `timeout 5 bash -c 'exec 3<>/dev/tcp/${t.host}/${t.port}' 2>/dev/null; [ $? = 124 ] && echo "cannot reach ${t.host}:${t.port} (a firewall drops it)"`,
      )
      .join("\n");
  const root = `[ "$(id -u)" = 0 ] || echo "cannot run commands as root (passwordless sudo is required)"`;
  for (const [i, n] of nodes.entries()) {
    const others = nodes.filter((_, j) => j !== i).map((o) => ({ host: o.host, port: 6443 }));
    await probe(
      n,
      `${root}
command -v systemctl >/dev/null || echo "has no systemd (systemctl): K3s and the bootstrap unit need it"
command -v curl >/dev/null || echo "has no curl: the bootstrap needs it"
command -v bash >/dev/null || echo "has no bash"
${args.operation === "destroy" ? "" : reach(others)}`,
    );
  }
  for (const l of lb)
    await probe(
      l,
      `${root}
${args.operation === "destroy" ? "" : reach(nodes.flatMap((n) => [80, 443].map((port) => ({ host: n.host, port }))))}`,
    );
  if (args.datastore && args.operation !== "destroy") {
    // Wrong password, refused TLS or a server K3s cannot use: thrown as is (AuthFailed, InvalidConfig, Provider).
    const c = await args.datastore.connect();
    try {
      await args.datastore.assess(c);
    } finally {
      await c.end().catch(() => c.destroy());
    }
  }
  if (problems.length > 0)
    throw new ProviderError(`the hosts are not ready for K3s:\n  - ${problems.join("\n  - ")}`, {
      retryable: false,
    });
}

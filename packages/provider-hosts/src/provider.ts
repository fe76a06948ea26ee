import { readFile } from "node:fs/promises";
import {
  type ClusterConfig,
  type ConfigIssue,
  defineProvider,
  type ProviderContext,
  type ProviderServices,
  type ServiceKind,
} from "@k3sinfra/core";
import { HostsDatastoreService } from "./datastore.js";
import { ManualDnsService } from "./dns-manual.js";
import { Hosts } from "./hosts.js";
import { HostsLoadBalancerService } from "./load-balancer.js";
import { HostsNetworkService } from "./network.js";
import { HOSTS_METADATA_READER, HostsNodeService } from "./nodes.js";
import { type HostsOptions, parseHostsOptions, resolvePaths } from "./options.js";
import { hostsPreflight } from "./preflight.js";

/** The services of one cluster and the hosts they share (core hands the whole object back to `preflight`). */
export interface HostsServices extends ProviderServices {
  readonly hosts: Hosts;
}

/** The parts of the config that depend on the hosts provider. */
export function validateHostsConfig(
  config: ClusterConfig,
  o: HostsOptions,
  roles: readonly ServiceKind[],
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (roles.includes("nodes") && o.nodes.length !== config.nodes.count)
    issues.push({
      path: "options.hosts.nodes",
      message: `lists ${o.nodes.length} hosts but nodes.count is ${config.nodes.count}: give one host per node`,
    });
  if (roles.includes("loadBalancer")) {
    if (!o.loadBalancer)
      issues.push({
        path: "options.hosts.loadBalancer",
        message: "is required: the host that runs NGINX in front of the nodes",
      });
    if (config.loadBalancer.mode !== "l4")
      issues.push({
        path: "loadBalancer.mode",
        message: "must be l4 with the hosts provider (NGINX passes TCP 80/443 to Traefik)",
      });
  }
  if (roles.includes("datastore")) {
    if (!o.datastore)
      issues.push({
        path: "options.hosts.datastore",
        message: "is required: host, port, adminUser and passwordEnv of your MySQL/MariaDB",
      });
  }
  return issues;
}

function services(ctx: ProviderContext<HostsOptions>): HostsServices {
  const options = resolvePaths(ctx.options, ctx.baseDir);
  const hosts = new Hosts(options, {
    privateKeyFile: options.ssh.privateKeyFile,
    agentSocket: ctx.env.SSH_AUTH_SOCK,
  });
  const has = (role: ServiceKind) => ctx.roles.includes(role);
  const caFile = options.datastore?.caFile;
  const names = { database: ctx.config.datastore.databaseName, k3sUser: ctx.config.datastore.k3sUsername };
  return {
    hosts,
    network: has("network") ? new HostsNetworkService(hosts) : undefined,
    nodes: has("nodes")
      ? new HostsNodeService(hosts, caFile ? () => readFile(caFile, "utf8") : undefined)
      : undefined,
    datastore:
      has("datastore") && options.datastore
        ? new HostsDatastoreService(options.datastore, names, ctx.env)
        : undefined,
    loadBalancer: has("loadBalancer")
      ? new HostsLoadBalancerService(hosts, options.loadBalancer?.publicAddress)
      : undefined,
    dns: has("dns") ? new ManualDnsService() : undefined,
  };
}

/** Existing Linux hosts over SSH, an existing MySQL/MariaDB, an NGINX L4 load balancer, manual DNS. */
export const hosts = defineProvider<HostsOptions, HostsServices>({
  contractVersion: 2,
  name: "hosts",
  capabilities: {
    services: ["network", "nodes", "datastore", "loadBalancer", "dns"],
    loadBalancerModes: ["l4"],
    // The hosts sit behind the operator's own firewall: plan lists the port matrix for them to open.
    firewall: "external",
    loadBalancerAddress: "ip",
    dnsRecordTypes: ["A"],
    datastoreEngines: [{ engine: "mysql", versions: ["8.0", "8.4"] }],
    datastoreTls: "optional",
    // The datastore service checks the server itself (version, settings, TLS): the cluster's admin user it
    // creates may not read mysql.* (other users' password hashes), as core's own check does.
    datastoreCheck: "provider",
  },
  // Published values are 0600 files that `publish` writes over SSH.
  metadataReader: HOSTS_METADATA_READER,
  bootLogCommand: (node) =>
    `ssh ${node.id.replace(/^ssh:\/\//, "").replace(/:22$/, "")} journalctl -u k3sinfra-bootstrap -o cat`,
  parseOptions: parseHostsOptions,
  validate: validateHostsConfig,
  services,
  async preflight(built, ctx, signal) {
    await hostsPreflight({
      hosts: built.hosts,
      datastore: built.datastore as HostsDatastoreService | undefined,
      config: ctx.config,
      roles: ctx.roles,
      operation: ctx.operation,
      signal,
    });
  },
});

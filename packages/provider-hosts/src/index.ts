// @k3sinfra/provider-hosts: K3s on hosts you already have, over SSH; an existing MySQL/MariaDB; an NGINX L4
// load balancer; manual DNS. Importing it loads neither ssh2 nor mysql2 (each is imported on first use).
export { HostsDatastoreService, OWNER_TABLE } from "./datastore.js";
export { ManualDnsService } from "./dns-manual.js";
export { Hosts, METADATA_DIR, STATE_ROOT } from "./hosts.js";
export { HostsLoadBalancerService } from "./load-balancer.js";
export { describeRule, HostsNetworkService } from "./network.js";
export { INCLUDE_LINE, NGINX_DIR, renderStreamConf } from "./nginx.js";
export { HOSTS_METADATA_READER, HostsNodeService, K3S_UNINSTALL } from "./nodes.js";
export { type HostOptions, type HostsOptions, parseHostsOptions } from "./options.js";
export { type HostsServices, hosts, hosts as default, validateHostsConfig } from "./provider.js";
export { checkHostKey, fingerprint, type HostKeyPolicy } from "./ssh/host-key.js";
export { HostKeyError, type SshAuth, SshSession, type SshTarget, withSsh } from "./ssh/session.js";

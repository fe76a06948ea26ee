// @k3sinfra/provider-hosts: K3s on hosts you already have, over SSH. Importing it loads neither ssh2 nor mysql2.

export { HostsDatastoreService, OWNER_TABLE } from "./datastore.js";
export { Hosts, METADATA_DIR, STATE_ROOT } from "./hosts.js";
export { HostsLoadBalancerService } from "./load-balancer.js";
export { INCLUDE_LINE, NGINX_DIR, renderStreamConf } from "./nginx.js";
export { HOSTS_METADATA_READER, HostsNodeService, K3S_UNINSTALL } from "./nodes.js";
export { type HostOptions, type HostsOptions, parseHostsOptions } from "./options.js";
export { checkHostKey, fingerprint, type HostKeyPolicy } from "./ssh/host-key.js";
export { HostKeyError, type SshAuth, SshSession, type SshTarget, withSsh } from "./ssh/session.js";

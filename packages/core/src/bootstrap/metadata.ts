/**
 * How a node learns, at boot, what did not exist when it was created.
 *
 * Contract between the orchestrator, the provider and the node bootstrap:
 * - The orchestrator calls `NodeService.publish(nodeState, values, ctx)` with these keys (values are never
 *   secret and contain only letters, digits, `.`, `:` and `-`; anything else is ignored by the node):
 *   - `first-server-ip`: node 0's private IP, on every node with index > 0, as soon as node 0 is created
 *     (its `NodeState.privateIp`). Nodes > 0 wait for it, then for `https://<ip>:6443/ping`.
 *   - `datastore-host` and `datastore-port`: `DatastoreState.host` and `.port`, on every node, once the
 *     datastore is available. Every node waits for `datastore-host`; the port defaults to the one in the
 *     bootstrap input (3306) when `datastore-port` is absent.
 *   Publishing is idempotent; publish the same values again after a resumed run.
 * - The provider stores key `k` where its `metadataReader` (below) finds it: an instance tag or metadata
 *   attribute the node can read from its cloud's metadata service, a key-value store. Every provider with
 *   nodes supplies its own reader with this calling convention; core ships none.
 * A value already known when the user data is rendered (e.g. a bring-your-own datastore host) can be put
 * in the bootstrap input instead; the node then does not wait for it.
 */
export const METADATA_KEYS = {
  datastoreHost: "datastore-host",
  datastorePort: "datastore-port",
  firstServerIp: "first-server-ip",
} as const;

/** A published key name. */
export type MetadataKey = (typeof METADATA_KEYS)[keyof typeof METADATA_KEYS];

/**
 * A metadata reader is the body of a POSIX shell function called as `k3sinfra_meta <key>`: it prints the
 * value of the published key on stdout and exits non-zero (or prints nothing) while the key is absent.
 * It runs as root on the node with `curl` available, and must finish quickly (use `curl -m`).
 */
export type MetadataReader = string;

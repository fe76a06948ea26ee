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
 * - The provider stores key `k` where its reader below finds it: AWS instance tag `k3sinfra:<k>` (needs
 *   `InstanceMetadataTags=enabled`), GCP instance metadata attribute `k3sinfra-<k>`, Azure VM tag
 *   `k3sinfra-<k>`. A custom provider supplies its own reader with the same calling convention.
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

/**
 * AWS: IMDSv2 instance tags, key `k3sinfra:<key>`. Tags in instance metadata must be enabled on the
 * instance (MetadataOptions.InstanceMetadataTags=enabled); tag changes show up while it runs.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/work-with-tags-in-IMDS.html
 */
export const AWS_METADATA_READER: MetadataReader = [
  "  t=$(curl -fsS -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' \\",
  "    http://169.254.169.254/latest/api/token) || return 1",
  '  curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $t" \\',
  '    "http://169.254.169.254/latest/meta-data/tags/instance/k3sinfra:$1"',
].join("\n");

/**
 * GCP: custom instance metadata attribute `k3sinfra-<key>` (setMetadata on the instance).
 * https://cloud.google.com/compute/docs/metadata/querying-metadata
 */
export const GCP_METADATA_READER: MetadataReader = [
  "  curl -fsS -m 5 -H 'Metadata-Flavor: Google' \\",
  '    "http://metadata.google.internal/computeMetadata/v1/instance/attributes/k3sinfra-$1"',
].join("\n");

/**
 * Azure: VM tag `k3sinfra-<key>` from IMDS. The text format is `name:value;name:value`, which is safe
 * because published values never contain `;` (host names, IPs, ports).
 * https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service
 */
export const AZURE_METADATA_READER: MetadataReader = [
  "  curl -fsS -m 5 -H 'Metadata: true' \\",
  "    'http://169.254.169.254/metadata/instance/compute/tags?api-version=2021-02-01&format=text' |",
  "    tr ';' '\\n' | sed -n \"s/^k3sinfra-$1://p\" | grep .",
].join("\n");

/** The shipped readers by provider name. */
export const METADATA_READERS: Readonly<Record<"aws" | "gcp" | "azure", MetadataReader>> = {
  aws: AWS_METADATA_READER,
  gcp: GCP_METADATA_READER,
  azure: AZURE_METADATA_READER,
};

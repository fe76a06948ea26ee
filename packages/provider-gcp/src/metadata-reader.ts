/**
 * How a node reads a published late value: the custom instance metadata attribute `k3sinfra-<key>` from the
 * metadata server, which answers only requests with `Metadata-Flavor: Google`
 * (https://cloud.google.com/compute/docs/metadata/querying-metadata). Body of the shell function
 * `k3sinfra_meta KEY` (core's `MetadataReader` convention): prints the value, non-zero while it is absent.
 */
export const GCP_METADATA_READER = [
  "  curl -fsS -m 5 -H 'Metadata-Flavor: Google' \\",
  '    "http://metadata.google.internal/computeMetadata/v1/instance/attributes/k3sinfra-$1"',
].join("\n");

import type { NameRule, ProviderCapabilities } from "@k3sinfra/core";

/**
 * Google Front End ranges: where the global external Application LB and health checks connect to backends from
 * (https://cloud.google.com/load-balancing/docs/firewall-rules).
 */
export const GFE_RANGES = ["35.191.0.0/16", "130.211.0.0/22"];

const zones = (region: string, letters: string): string[] => [...letters].map((l) => `${region}-${l}`);

/** Zones of common regions, so core can default and check `zones` offline (https://cloud.google.com/compute/docs/regions-zones). */
export const GCP_ZONES: Readonly<Record<string, readonly string[]>> = {
  "us-central1": zones("us-central1", "abcf"),
  "us-east1": zones("us-east1", "bcd"),
  "us-east4": zones("us-east4", "abc"),
  "us-west1": zones("us-west1", "abc"),
  "europe-west1": zones("europe-west1", "bcd"),
  "europe-west3": zones("europe-west3", "abc"),
  "europe-west4": zones("europe-west4", "abc"),
  "asia-east1": zones("asia-east1", "abc"),
};

// Compute resource names are RFC 1035 labels of 1-63 characters
// (https://cloud.google.com/compute/docs/naming-resources#resource-name-format).
const RFC1035 = {
  maxLength: 63,
  pattern: /^[a-z0-9-]+$/,
  patternHint: "lowercase letters, digits and hyphens",
  startsWithLetter: true,
  noTrailingHyphen: true,
  docs: "https://cloud.google.com/compute/docs/naming-resources#resource-name-format",
} as const;

/** Names the GCP provider derives from the config, with the rules Google puts on them. */
export const GCP_NAME_RULES: readonly NameRule[] = [
  { object: "Compute Engine instance name", template: "{node}", role: "nodes", ...RFC1035 },
  // The longest zone suffix of the listed regions (europe-west1-b) on an instance group's name.
  {
    object: "instance group name",
    template: "{load-balancer}-europe-west1-b",
    role: "loadBalancer",
    ...RFC1035,
  },
  { object: "firewall rule name", template: "{network}-c00000000", role: "network", ...RFC1035 },
  {
    // Cloud SQL instance ids: lowercase letters, digits and hyphens, a letter first, at most 98 characters
    // (https://cloud.google.com/sql/docs/mysql/instance-settings#settings-2ndgen).
    object: "Cloud SQL instance id",
    template: "{datastore}",
    role: "datastore",
    maxLength: 98,
    pattern: /^[a-z0-9-]+$/,
    patternHint: "lowercase letters, digits and hyphens",
    startsWithLetter: true,
    docs: "https://cloud.google.com/sql/docs/mysql/instance-settings#settings-2ndgen",
  },
  {
    // Secret ids: letters, digits, hyphens and underscores, at most 255 characters.
    object: "Secret Manager secret id",
    template: "k3sinfra-{cluster}-rancher-bootstrap-password",
    role: "secretStore",
    maxLength: 255,
    pattern: /^[A-Za-z0-9_-]+$/,
    patternHint: "letters, digits, hyphens and underscores",
    docs: "https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets/create",
  },
];

/** What the GCP provider can do, as data. */
export const gcpCapabilities: ProviderCapabilities = {
  // secretStore: Secret Manager, read on the nodes with the cluster's service account.
  services: ["network", "nodes", "datastore", "loadBalancer", "dns", "secretStore"],
  // Cloud DNS A records; the load balancers have static IPs (no alias records needed).
  dnsRecordTypes: ["A"],
  dnsProxy: false,
  // L4: regional external passthrough NLB; L7: global external Application LB.
  loadBalancerModes: ["l4", "l7"],
  // L7 without loadBalancer.certificate gets a Google-managed certificate for the Rancher host name.
  l7NeedsCertificate: false,
  // The global external Application LB connects to backends from Google's front ends, not the VPC: Traefik
  // must trust X-Forwarded-* from those ranges (https://cloud.google.com/load-balancing/docs/firewall-rules).
  l7SourceCidrs: GFE_RANGES,
  // Cloud SQL for MySQL 8.0 enters (billed) extended support on 2026-07-01; 8.4 is in standard support
  // (https://cloud.google.com/sql/docs/mysql/db-versions).
  datastoreEngines: [{ engine: "mysql", versions: ["8.0", "8.4"], endOfSupport: { "8.0": "2026-06-30" } }],
  // Instances are created with sslMode ENCRYPTED_ONLY; nodes verify with the instance's server CA.
  datastoreTls: "required",
  // The passthrough NLB keeps the client's address: nodes admit the client ranges themselves.
  loadBalancerFirewall: "passthrough",
  loadBalancerAddress: "ip",
  zones: GCP_ZONES,
  names: GCP_NAME_RULES,
  credentialEnv: ["GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT"],
};

/** Starter configs written by `k3sinfra init`, one per provider, commented so the file teaches itself. */

/** Providers `init` has a template for. */
export const INIT_PROVIDERS = ["aws", "gcp", "azure", "memory"] as const;
/** One of the providers above. */
export type InitProvider = (typeof INIT_PROVIDERS)[number];

/** Values substituted into a template. */
export interface TemplateValues {
  readonly name: string;
  readonly region: string;
  readonly hostname: string;
}

/** A region that exists on each provider, used when `--region` is not given. */
export const DEFAULT_REGIONS: Record<InitProvider, string> = {
  aws: "us-east-1",
  gcp: "us-central1",
  azure: "eastus",
  memory: "memory-1",
};

const dnsHints: Record<InitProvider, string> = {
  aws: "a Route 53 public hosted zone in this account (or set dns.provider: cloudflare)",
  gcp: "a Cloud DNS public managed zone in this project",
  azure: "an Azure DNS zone in this subscription",
  memory: "any name: the in-memory cloud has every zone",
};

const providerOptions = (provider: InitProvider): string => {
  switch (provider) {
    case "memory":
      return `options:
  memory:
    # Keeps the fake cloud in this file so separate commands see the same resources.
    persistPath: .k3sinfra/memory-cloud.json
`;
    case "aws":
      return `# Provider-specific settings live under options.<provider>; credentials come from the AWS default
# chain (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO, instance roles), never from this file.
# options:
#   aws: {}
`;
    case "gcp":
      return `# Credentials come from Application Default Credentials (gcloud auth application-default login).
# options:
#   gcp: {}
`;
    case "azure":
      return `# Credentials come from DefaultAzureCredential (az login, environment, managed identity).
# options:
#   azure: {}
`;
  }
};

/** The YAML text of a starter `k3sinfra.yaml`. */
export const initTemplate = (provider: InitProvider, v: TemplateValues): string => {
  const zone = v.hostname.split(".").slice(1).join(".");
  return `# k3sinfra cluster config: Rancher's HA K3s infrastructure. Reference: docs/cli.md
# Next: \`k3sinfra plan\` shows what would be created, \`k3sinfra up\` creates it.

# 3-20 lowercase letters, digits or hyphens; it prefixes every resource name.
name: ${v.name}
provider: ${provider}
region: ${v.region}
# zones: []            # default: the provider's zones in the region; nodes are spread over them

nodes:
  count: 2              # 2-7 K3s servers; 2+ for high availability
  size: { vcpus: 4, memoryGiB: 16 }
  diskGiB: 50
  image: ubuntu-24.04
  # sshKeyName: my-key  # an existing key pair, for SSH from adminCidrs
  adminCidrs: []        # e.g. [203.0.113.0/24]: who may reach SSH (22) and the K3s API (6443)

# External MySQL used by K3s through --datastore-endpoint; reachable only from the nodes.
datastore:
  version: "8.4"
  size: { vcpus: 2, memoryGiB: 8 }
  storageGiB: 20
  highAvailability: false
  deletionProtection: true   # destroy stops at the database unless --allow-protected
  backupRetentionDays: 7

loadBalancer:
  mode: l4              # l4: TCP 80/443 passed through to Traefik; l7: TLS ends at the LB (needs certificate)
  # certificate: ...    # l7 only: a certificate id/ARN for the hostname
  clientCidrs: [0.0.0.0/0]

dns:
  zone: ${zone}         # ${dnsHints[provider]}
  ttl: 300

rancher:
  hostname: ${v.hostname}   # the Rancher URL; it can never change after \`up\`
  # version: 2.14.2      # the default: the newest stable Rancher k3sinfra knows

# k3s:
#   version: v1.35.5+k3s1   # the default for that Rancher

${providerOptions(provider)}
# state:
#   path: .k3sinfra/${v.name}.state.json   # the default; keep it safe, it holds encrypted secrets
`;
};

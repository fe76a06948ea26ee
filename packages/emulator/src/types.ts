/** Public types of the emulator (the contract other packages code against). */
import type { VirtualClock } from "./virtual-clock.js";

export type CloudName = "aws" | "cloudflare" | "azure" | "gcp";

export interface EmulatorOptions {
  /** Clouds to serve; default `["aws"]`. */
  clouds?: CloudName[];
  /** 1 = real durations; tests use e.g. 0.001. */
  timeScale?: number;
  faults?: FaultSpec[];
  /** Makes fault injection and generated ids reproducible. */
  seed?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a random free port). */
  port?: number;
  /** Port of the HTTPS listener, started when a cloud needs one (Azure); default 0 (a random free port). */
  tlsPort?: number;
  /**
   * Load state from this JSON file at start and save it after each mutation (atomic write). The file is
   * written 0600; a missing directory is created 0700 (the state holds sealed SecureStrings and key material).
   * A request that changes nothing writes nothing; changes made while a write is in flight share the next
   * one; a request that changed the state is answered once a write holding its change is on disk.
   */
  persistPath?: string;
  /** Test and diagnostics hook: called after each write of `persistPath`, with the text's length. */
  onPersist?: (bytes: number) => void;
  /**
   * How long a new IAM instance profile (or a role just added to one) stays invisible to RunInstances, as
   * IAM's eventual consistency makes it; default 8 s × `timeScale`.
   */
  iamPropagationMs?: number;
  /**
   * Test back door: the wall clock (epoch ms) every lifecycle, propagation delay and credential expiry is
   * computed from; default `Date.now`. A test can advance it instead of sleeping.
   */
  clock?: () => number;
  /**
   * Emulated time for tests and benchmarks (`VirtualClock`): every lifecycle reads it, each request holds it
   * while it is handled, and the request log's `at` is by it. Hand the same clock to core's poll policy
   * (`poll: { …, clock }`) so the client's waits advance it. Takes precedence over `clock`.
   */
  virtualClock?: VirtualClock;
  /**
   * Opt-in: the emulator stands in for K3s on server 0, which it does not run. A running instance whose user
   * data holds a k3sinfra boot script's `KUBECONFIG_SECRET='<name>'` line gets, `kubeconfigAfterMs` × `timeScale`
   * after it left `pending`, a K3s-shaped kubeconfig stored as SecureString `<name>`, authorized as the
   * instance's role (a role that may not write there is refused, as on AWS). Played lazily on the next SSM call
   * (or at once with `Emulator.bootNodes()`). Off by default: tests that play server 0 themselves see no write.
   */
  simulateBoot?: { kubeconfigAfterMs: number };
  /**
   * How long a k3sinfra server (user data running `k3sinfra-bootstrap`) takes from `running` to its bootstrap's
   * `done` stage, at time scale 1; its stages keep their proportions (K3s ready at 140/150 of it). Its load balancer
   * checks pass only once K3s is ready. Default 150 000 (an estimate of a real boot, see docs/emulator.md).
   */
  bootTimeMs?: number;
  /**
   * Bootstrap failures from the start (the CLI's `K3SINFRA_EMULATE_FAIL_BOOT`): every instance carrying `tags`
   * (AWS and Azure tags; Google Cloud labels, see `BootFaultTarget`), existing or launched later, fails at `stage` as
   * `Emulator.failBootstrap` makes it. Kept in the state; a later start without the entry clears it (the nodes
   * then retry and complete).
   */
  bootFaults?: { tags: Record<string, string>; stage: BootStage; reason?: string }[];
  /** Pre-existing user resources, e.g. a Route 53 public hosted zone "example.com". */
  fixtures?: { aws?: AwsFixtures; cloudflare?: CloudflareFixtures; azure?: AzureFixtures; gcp?: GcpFixtures };
  /** Optional real MariaDB/MySQL server backing RDS instances (see docs/emulator.md). */
  mysql?: { host: string; port: number; user: string; password: string };
  log?: (line: string) => void;
}

/** What exists in the emulated AWS account before the first request. */
export interface AwsFixtures {
  /** Public Route 53 hosted zones, e.g. "example.com". */
  hostedZones?: string[];
  /** ACM certificates (for an L7 load balancer): what DescribeCertificate finds. */
  certificates?: AcmCertificateFixture[];
  /**
   * RDS engine versions the region offers, replacing the built-in table for that engine (e.g.
   * `{ mysql: ["8.4.6"] }` for a region where AWS no longer offers 8.0).
   */
  rdsEngineVersions?: { mysql?: string[]; mariadb?: string[] };
}

/** ACM certificate statuses (the model's CertificateStatus). */
export type CertificateStatus =
  | "PENDING_VALIDATION"
  | "ISSUED"
  | "INACTIVE"
  | "EXPIRED"
  | "VALIDATION_TIMED_OUT"
  | "REVOKED"
  | "FAILED";

export interface AcmCertificateFixture {
  /** Default: a stable ARN derived from the region and the domain name. */
  arn?: string;
  /** The certificate's domain name, e.g. `rancher.example.com` or `*.example.com`. */
  domainName: string;
  /** Further names (subject alternative names); the domain name is always included. */
  sans?: string[];
  /** Default `ISSUED`. */
  status?: CertificateStatus;
  /** Default: the ARN's region, else us-east-1. */
  region?: string;
}

/** What exists in the emulated Azure subscription before the first request. */
export interface AzureFixtures {
  /** Public Azure DNS zones, each in a resource group (created when missing), e.g. `{ zone: "example.com", resourceGroup: "dns" }`. */
  dnsZones?: { zone: string; resourceGroup: string }[];
  /**
   * Virtual networks made outside the client (a platform team's), each in its resource group (created when
   * missing), with their subnets; `delegation` is a service name such as `Microsoft.DBforMySQL/flexibleServers`.
   */
  virtualNetworks?: {
    resourceGroup: string;
    name: string;
    /** Default `westeurope`. */
    location?: string;
    addressSpace: string[];
    subnets: { name: string; addressPrefix: string; delegation?: string }[];
  }[];
}

/** What exists in the emulated Google Cloud projects before the first request (each project has the default network). */
export interface GcpFixtures {
  /**
   * The default network has private services access (an active `servicenetworking-googleapis-com` peering), so
   * Cloud SQL can take a private IP there. Default false, as in a new project.
   */
  privateServicesAccess?: boolean;
  /** Cloud DNS public managed zones in every project, by domain, e.g. `example.com` (zone name `example-com`). */
  managedZones?: string[];
}

/** Cloudflare plans, as far as they change DNS behaviour (comment length, record tags, minimum TTL). */
export type CloudflarePlan = "free" | "pro" | "business" | "enterprise";

/** What exists in the emulated Cloudflare account before the first request. */
export interface CloudflareFixtures {
  /** Zones in the account; default `["example.com"]` on the Free plan. */
  zones?: (string | { name: string; plan?: CloudflarePlan })[];
  /** API tokens accepted (Bearer); default the one in `Emulator.credentials.cloudflare.apiToken`. */
  tokens?: string[];
  /** Per-token request quota; default 1200 requests per 300 s (the window scales with `timeScale`). */
  rateLimit?: { requests?: number; windowSeconds?: number };
}

export type FaultKind = "throttle" | "error500" | "unavailable503" | "slow";

export interface FaultSpec {
  /** Filters; omitted = any. */
  cloud?: string;
  service?: string;
  operation?: string;
  kind: FaultKind;
  /** Probability per matching call (seeded RNG). */
  rate?: number;
  /** Or: exactly the k-th matching call (1-based). */
  atCall?: number;
  /** How many times at most. */
  times?: number;
  /** For `slow` (default 1000 ms). */
  delayMs?: number;
  /**
   * Answer with a proxy's plain-text page (`500 Internal Server Error`, `503 Service Unavailable`) instead of
   * the cloud's error document and request id header: what a load balancer or proxy in front of an API sends.
   */
  plainText?: boolean;
}

export interface InventoryItem {
  cloud: string;
  service: string;
  type: string;
  id: string;
  name?: string;
  region?: string;
  state: string;
  tags: Record<string, string>;
  /** Route 53 record sets: the hosted zone id (`Z…`, without `/hostedzone/`); Cloudflare DNS records: the zone id. */
  zoneId?: string;
  /** Cloudflare DNS records: the record's comment (where tools without tags mark ownership). */
  comment?: string;
  /** RDS instances backed by a real MariaDB (the `mysql` option): where to connect instead of `Endpoint`. */
  connect?: { host: string; port: number };
}

export interface InventoryFilter {
  cloud?: string;
  /** Every given key must be present with the given value. */
  tags?: Record<string, string>;
  /** Also list the seeded defaults (default VPC, subnets, default SGs, AMIs, fixture hosted zones). */
  includeDefaults?: boolean;
}

export interface RequestLogEntry {
  cloud: string;
  service: string;
  operation: string;
  status: number;
  /** The injected fault's kind, when one was injected. */
  fault?: string;
  at: number;
}

/** The stages of a k3sinfra server's bootstrap, in order: its console's `k3sinfra-bootstrap: stage=<name>` lines. */
export type BootStage =
  | "secrets"
  | "metadata"
  | "datastore"
  | "k3s-install"
  | "k3s-ready"
  | "rancher-manifests"
  | "kubeconfig"
  | "done";

/**
 * One instance, or every instance carrying these tags (existing ones and those launched later). AWS: an instance
 * id, tags. Google Cloud: an instance's path (`projects/p/zones/z/instances/n`), name or numeric id; the tags are
 * matched against its labels, equal or as labels must be written (`k3sinfra:cluster=Prod` is the label
 * `k3sinfra-cluster=prod`). Azure: a VM's resource id, tags.
 */
export type BootFaultTarget = string | { tags: Record<string, string> };

/** One kubeconfig write the emulator played for a server 0 (`EmulatorOptions.simulateBoot`, `Emulator.bootNodes`). */
export interface BootReport {
  instanceId: string;
  /** The SSM parameter the boot script names (`KUBECONFIG_SECRET`). */
  parameter: string;
  /**
   * `stored`; `refused` (the role may not write there, or the instance has no role: retried on later calls, as
   * the script retries); `gave-up` (refused for the script's whole retry window, 600 s × time scale).
   */
  outcome: "stored" | "refused" | "gave-up";
  /** The AWS error, e.g. `AccessDeniedException: User: arn:aws:sts::…`. */
  error?: string;
}

export interface Emulator {
  /** Base URL, e.g. http://127.0.0.1:4566 */
  url: string;
  /** Base URL of the HTTPS listener, when a served cloud needs one (Azure), e.g. https://127.0.0.1:4567 */
  httpsUrl?: string;
  /** PEM of the CA made at start that signed the HTTPS listener's certificate: what clients must trust. */
  caPem?: string;
  endpoints: { aws?: string; cloudflare?: string; azure?: string; gcp?: string };
  credentials: {
    aws: { accessKeyId: string; secretAccessKey: string };
    /** A service principal the emulator's token endpoint accepts (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`). */
    azure: { tenantId: string; clientId: string; clientSecret: string; subscriptionId: string };
    /** The first accepted Cloudflare API token (sent as `Authorization: Bearer …`). */
    cloudflare: { apiToken: string };
  };
  inventory(filter?: InventoryFilter): InventoryItem[];
  requestLog(): RequestLogEntry[];
  /** "ec2:RunInstances" -> n */
  callCounts(): Record<string, number>;
  addFault(f: FaultSpec): void;
  clearFaults(): void;
  /**
   * Test back door: `unhealthy` makes the load balancer health checks of this instance fail (a node whose
   * K3s/Traefik never comes up); `auto` lets them follow the instance again. Throws for an unknown instance.
   */
  setTargetHealth(instanceId: string, mode: "unhealthy" | "auto"): void;
  /**
   * The instance metadata service as this instance sees it (`http://169.254.169.254` on a real one), e.g.
   * `${imdsEndpoint(id)}/latest/api/token`. IMDSv2 tokens, meta-data, user data and the role credentials of its
   * instance profile; unknown, stopped or terminated instances answer 404.
   */
  imdsEndpoint(instanceId: string): string;
  /**
   * Test back door of `simulateBoot` (works without the option too): every running server 0 (user data naming a
   * `KUBECONFIG_SECRET`) that has neither stored its kubeconfig nor given up does so now, whatever its uptime,
   * authorized as its role. Returns each attempt.
   */
  bootNodes(): BootReport[];
  /**
   * Test back door: the bootstrap of a k3sinfra server fails at `stage` from now on (its console shows
   * `k3sinfra-bootstrap: stage=<stage> failed: <reason>`, systemd runs it again and it fails again; its load balancer
   * checks fail when the stage is before K3s is ready). A boot already past `stage` is not affected. `target`: an
   * instance (`BootFaultTarget`; throws for an unknown one), or `{ tags }` for every instance carrying them, now and
   * later, in every cloud that boots servers (AWS, Google Cloud, Azure).
   */
  failBootstrap(target: BootFaultTarget, stage: BootStage, reason?: string): void;
  /** Ends `failBootstrap`'s faults (same target): the node's next restart passes the stage and completes the boot. */
  clearBootstrapFault(target: BootFaultTarget): void;
  stop(): Promise<void>;
}

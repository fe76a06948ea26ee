import type { NameRule, ProviderCapabilities } from "@k3sinfra/core";

const letters = (region: string, suffixes: string): string[] => [...suffixes].map((s) => `${region}${s}`);

/**
 * Zones every account sees in common regions, so core can default and check `zones` offline. Zone letters
 * map to different physical zones per account, and some accounts lack a letter (us-west-1, ap-northeast-1b),
 * which is why those are listed conservatively. https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html
 */
export const AWS_ZONES: Readonly<Record<string, readonly string[]>> = {
  "us-east-1": letters("us-east-1", "abcdef"),
  "us-east-2": letters("us-east-2", "abc"),
  // Older accounts have us-west-1a/b, newer ones b/c: only b is common to both (preflight checks the rest).
  "us-west-1": letters("us-west-1", "bc"),
  "us-west-2": letters("us-west-2", "abcd"),
  "ca-central-1": letters("ca-central-1", "abd"),
  "ca-west-1": letters("ca-west-1", "abc"),
  "sa-east-1": letters("sa-east-1", "abc"),
  "eu-west-1": letters("eu-west-1", "abc"),
  "eu-west-2": letters("eu-west-2", "abc"),
  "eu-west-3": letters("eu-west-3", "abc"),
  "eu-central-1": letters("eu-central-1", "abc"),
  "eu-central-2": letters("eu-central-2", "abc"),
  "eu-north-1": letters("eu-north-1", "abc"),
  "eu-south-1": letters("eu-south-1", "abc"),
  "eu-south-2": letters("eu-south-2", "abc"),
  "ap-east-1": letters("ap-east-1", "abc"),
  "ap-south-1": letters("ap-south-1", "abc"),
  "ap-south-2": letters("ap-south-2", "abc"),
  "ap-southeast-1": letters("ap-southeast-1", "abc"),
  "ap-southeast-2": letters("ap-southeast-2", "abc"),
  "ap-southeast-3": letters("ap-southeast-3", "abc"),
  "ap-southeast-4": letters("ap-southeast-4", "abc"),
  "ap-northeast-1": letters("ap-northeast-1", "acd"),
  "ap-northeast-2": letters("ap-northeast-2", "abcd"),
  "ap-northeast-3": letters("ap-northeast-3", "abc"),
  "me-south-1": letters("me-south-1", "abc"),
  "me-central-1": letters("me-central-1", "abc"),
  "il-central-1": letters("il-central-1", "abc"),
  "af-south-1": letters("af-south-1", "abc"),
  "us-gov-west-1": letters("us-gov-west-1", "abc"),
  "us-gov-east-1": letters("us-gov-east-1", "abc"),
};

// ELB and target group names: at most 32 alphanumerics or hyphens, not beginning or ending with a hyphen.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
const ELB_NAME = {
  role: "loadBalancer",
  maxLength: 32,
  pattern: /^[A-Za-z0-9-]+$/,
  patternHint: "letters, digits and hyphens",
  noLeadingHyphen: true,
  noTrailingHyphen: true,
  docs: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
} as const;

/** Names and values the AWS provider derives from the config, with the rules AWS puts on them. */
export const AWS_NAME_RULES: readonly NameRule[] = [
  {
    // 1-63 letters, digits or hyphens; first a letter; no trailing hyphen, no two hyphens in a row.
    object: "RDS DB instance identifier",
    template: "{datastore}",
    role: "datastore",
    maxLength: 63,
    pattern: /^[A-Za-z0-9-]+$/,
    patternHint: "letters, digits and hyphens",
    startsWithLetter: true,
    noDoubleHyphen: true,
    noTrailingHyphen: true,
    docs: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
  },
  { object: "load balancer name", template: "{load-balancer}", ...ELB_NAME },
  { object: "target group name", template: "{load-balancer}-80", ...ELB_NAME },
  { object: "target group name", template: "{load-balancer}-443", ...ELB_NAME },
  {
    // The Comment of a ChangeResourceRecordSets batch is at most 256 characters; the longest services/dns.ts
    // writes is the delete's.
    object: "Route 53 change comment",
    template: "k3sinfra {cluster}: delete {hostname}",
    role: "dns",
    maxLength: 256,
    docs: "https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeBatch.html",
  },
  {
    // The ownership (heritage) TXT record beside the Rancher record is a DNS name: at most 253 characters.
    object: "ownership TXT record name",
    template: "_k3sinfra.{hostname}",
    role: "dns",
    maxLength: 253,
    docs: "https://www.rfc-editor.org/rfc/rfc1035#section-2.3.4",
  },
];

/** What the AWS provider can do, as data. */
export const awsCapabilities: ProviderCapabilities = {
  // secretStore: SSM Parameter Store SecureStrings, read on the nodes with their instance role.
  services: ["network", "nodes", "datastore", "loadBalancer", "dns", "secretStore"],
  loadBalancerModes: ["l4", "l7"],
  loadBalancerAddress: "hostname",
  // NLBs are created with a security group, which node rules reference: clients never reach nodes directly.
  loadBalancerFirewall: "group",
  // ALB terminates TLS only with an ACM certificate the user brings (its ARN in loadBalancer.certificate).
  l7NeedsCertificate: true,
  dnsRecordTypes: ["A", "CNAME", "ALIAS"],
  dnsProxy: false,
  // RDS for MySQL 8.0 left standard support on 2026-07-31 (RDS Extended Support, billed, after that).
  // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/MySQL.Concepts.VersionMgmt.html#MySQL.Concepts.VersionMgmt.ReleaseCalendar
  datastoreEngines: [{ engine: "mysql", versions: ["8.0", "8.4"], endOfSupport: { "8.0": "2026-07-31" } }],
  // RDS MySQL accepts TLS but does not require it unless require_secure_transport is set in a parameter group.
  datastoreTls: "required",
  zones: AWS_ZONES,
  names: AWS_NAME_RULES,
  credentialEnv: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"],
};

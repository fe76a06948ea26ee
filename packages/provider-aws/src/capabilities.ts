import type { ProviderCapabilities } from "@k3sinfra/core";

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

/** What the AWS provider can do, as data. */
export const awsCapabilities: ProviderCapabilities = {
  services: ["network", "nodes", "datastore", "loadBalancer", "dns"],
  loadBalancerModes: ["l4", "l7"],
  loadBalancerAddress: "hostname",
  // NLBs are created with a security group, which node rules reference: clients never reach nodes directly.
  loadBalancerFirewall: "group",
  // ALB terminates TLS only with an ACM certificate the user brings (its ARN in loadBalancer.certificate).
  l7NeedsCertificate: true,
  dnsRecordTypes: ["A", "CNAME", "ALIAS"],
  dnsProxy: false,
  datastoreEngines: [{ engine: "mysql", versions: ["8.0", "8.4"] }],
  // RDS MySQL accepts TLS but does not require it unless require_secure_transport is set in a parameter group.
  datastoreTls: "optional",
  zones: AWS_ZONES,
  credentialEnv: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"],
};

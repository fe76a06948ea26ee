import type { ConfigIssue } from "@k3sinfra/core";

/** `options.aws` in a cluster config: AWS settings that have no portable equivalent. */
export interface AwsOptions {
  /** An AWS-compatible endpoint for every client (the emulator); default `AWS_ENDPOINT_URL`, else AWS. */
  readonly endpoint?: string | undefined;
  /** EC2 instance type for the nodes when `nodes.instanceType` is unset; default: from `nodes.size`. */
  readonly instanceType?: string | undefined;
  /**
   * AMI for the nodes: an `ami-…` id or a `resolve:ssm:<parameter>` reference. Default: from `nodes.image`
   * (`ubuntu-24.04` → `resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id`).
   */
  readonly amiId?: string | undefined;
  /** Root device of the AMI, whose size and encryption we set; default: the known image's, an `ami-…` id's own (DescribeImages), else `/dev/sda1`. */
  readonly rootDeviceName?: string | undefined;
  /** An existing VPC; default: the region's default VPC. */
  readonly vpcId?: string | undefined;
  /** Existing subnets by zone; default: the VPC's default subnet of each zone. */
  readonly subnetIds?: Readonly<Record<string, string>> | undefined;
  /** The Route 53 hosted zone to write to; default: the public zone named `dns.zone`. */
  readonly hostedZoneId?: string | undefined;
  /** RDS instance class when `datastore.instanceClass` is unset; default: from `datastore.size`. */
  readonly datastoreInstanceClass?: string | undefined;
  /** Overrides `datastore.highAvailability` (RDS Multi-AZ) when set. */
  readonly multiAz?: boolean | undefined;
  /** Take a final DB snapshot `<name>-final-<timestamp>` before deleting the datastore; default true. */
  readonly finalSnapshot?: boolean | undefined;
  /** Load balancer scheme; default `internet-facing`. */
  readonly scheme?: "internet-facing" | "internal" | undefined;
  /** TLS policy of the L7 HTTPS listener; default `ELBSecurityPolicy-TLS13-1-2-2021-06`. */
  readonly sslPolicy?: string | undefined;
}

/** The default TLS policy: TLS 1.3 and 1.2 only (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html). */
export const DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

const KEYS: Readonly<Record<keyof AwsOptions, "string" | "boolean" | "record">> = {
  endpoint: "string",
  instanceType: "string",
  amiId: "string",
  rootDeviceName: "string",
  vpcId: "string",
  subnetIds: "record",
  hostedZoneId: "string",
  datastoreInstanceClass: "string",
  multiAz: "boolean",
  finalSnapshot: "boolean",
  scheme: "string",
  sslPolicy: "string",
};

const PATTERNS: Partial<Record<keyof AwsOptions, [RegExp, string]>> = {
  endpoint: [/^https?:\/\/[^\s/]+(\/.*)?$/, "must be an http(s) URL such as http://127.0.0.1:4566"],
  instanceType: [/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/, "must be an EC2 instance type such as m6i.xlarge"],
  amiId: [
    /^(ami-[0-9a-f]{8,17}|resolve:ssm:\/\S+)$/,
    "must be an AMI id (ami-…) or resolve:ssm:<public parameter>",
  ],
  rootDeviceName: [/^\/dev\/[a-z0-9]+$/, "must be a device name such as /dev/sda1 or /dev/xvda"],
  vpcId: [/^vpc-[0-9a-f]{8,17}$/, "must be a VPC id such as vpc-0123456789abcdef0"],
  hostedZoneId: [
    /^(\/hostedzone\/)?Z[A-Z0-9]{1,31}$/,
    "must be a Route 53 hosted zone id such as Z0123456789ABC",
  ],
  datastoreInstanceClass: [
    /^db\.[a-z0-9-]+\.[a-z0-9-]+$/,
    "must be an RDS instance class such as db.m6g.large",
  ],
  scheme: [/^(internet-facing|internal)$/, "must be internet-facing or internal"],
  sslPolicy: [/^[A-Za-z0-9-]+$/, "must be an ELB security policy name"],
};

/** Validates `options.aws`; issue paths are relative to that block. */
export function parseAwsOptions(
  raw: unknown,
): { ok: true; value: AwsOptions } | { ok: false; issues: ConfigIssue[] } {
  if (raw === undefined || raw === null) return { ok: true, value: {} };
  if (typeof raw !== "object" || Array.isArray(raw))
    return { ok: false, issues: [{ path: "", message: "must be a mapping of AWS settings" }] };
  const issues: ConfigIssue[] = [];
  const input = raw as Record<string, unknown>;
  for (const [key, value] of Object.entries(input)) {
    const kind = KEYS[key as keyof AwsOptions];
    if (!kind) {
      issues.push({ path: key, message: `is not an AWS option; known: ${Object.keys(KEYS).join(", ")}` });
      continue;
    }
    if (value === undefined) continue;
    if (kind === "boolean" && typeof value !== "boolean")
      issues.push({ path: key, message: "must be true or false" });
    if (kind === "string") {
      const pattern = PATTERNS[key as keyof AwsOptions];
      if (typeof value !== "string") issues.push({ path: key, message: "must be a string" });
      else if (pattern && !pattern[0].test(value)) issues.push({ path: key, message: pattern[1] });
    }
    if (kind === "record") {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        issues.push({ path: key, message: "must map zones to subnet ids, e.g. us-east-1a: subnet-0abc…" });
        continue;
      }
      for (const [zone, id] of Object.entries(value)) {
        if (typeof id !== "string" || !/^subnet-[0-9a-f]{8,17}$/.test(id))
          issues.push({
            path: `${key}.${zone}`,
            message: "must be a subnet id such as subnet-0123456789abcdef0",
          });
      }
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  const value = { ...input } as AwsOptions;
  return {
    ok: true,
    value: value.hostedZoneId
      ? { ...value, hostedZoneId: value.hostedZoneId.replace(/^\/hostedzone\//, "") }
      : value,
  };
}

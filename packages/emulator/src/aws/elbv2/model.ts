/**
 * Elastic Load Balancing v2: the persisted shapes, static tables (canonical hosted zones, attribute
 * defaults) and request readers shared by its operations.
 */

import { checkTags, type Tags } from "../kernel/common.js";
import { AWS_DURATIONS } from "../kernel/durations.js";
import { AwsError } from "../kernel/errors.js";
import { int, objList, str, type Tree } from "../kernel/query.js";

export interface LoadBalancer {
  arn: string;
  name: string;
  type: "network" | "application";
  scheme: string;
  vpcId: string;
  subnets: { subnetId: string; az: string }[];
  securityGroups: string[];
  ipAddressType: string;
  dnsName: string;
  createdAt: number;
  attributes: Record<string, string>;
  tags: Tags;
}

export interface Target {
  id: string;
  port: number;
  registeredAt: number;
  deregisteredAt?: number;
}

export interface TargetGroup {
  arn: string;
  name: string;
  protocol: string;
  port?: number;
  vpcId?: string;
  targetType: string;
  protocolVersion?: string;
  ipAddressType: string;
  hc: {
    protocol: string;
    port: string;
    enabled: boolean;
    path?: string;
    interval: number;
    timeout: number;
    healthy: number;
    unhealthy: number;
    matcher?: string;
  };
  attributes: Record<string, string>;
  tags: Tags;
  targets: Target[];
  createdAt: number;
}

export interface Action {
  Type: string;
  TargetGroupArn?: string;
  Order?: number;
  RedirectConfig?: Record<string, string>;
  FixedResponseConfig?: Record<string, string>;
}

export interface Listener {
  arn: string;
  lbArn: string;
  port: number;
  protocol: string;
  certificates: string[];
  sslPolicy?: string;
  alpn: string[];
  actions: Action[];
  /** Listener attributes (older persisted states may lack them). */
  attributes?: Record<string, string>;
  tags: Tags;
  createdAt: number;
}

export interface ElbRegion {
  lbs: Record<string, LoadBalancer>;
  tgs: Record<string, TargetGroup>;
  listeners: Record<string, Listener>;
}

/** Seconds at time scale 1: a new load balancer is "provisioning" for about 2-3 minutes. */
export const ELB_DURATIONS = AWS_DURATIONS.elbv2;

/**
 * Route 53 hosted zone ids of load balancer DNS names, per region and type
 * (https://docs.aws.amazon.com/general/latest/gr/elb.html).
 */
export const ZONE_IDS: Record<string, { application: string; network: string }> = {
  "us-east-1": { application: "Z35SXDOTRQ7X7K", network: "Z26RNL4JYFTOTI" },
  "us-east-2": { application: "Z3AADJGX6KTTL2", network: "ZLMOA37VPKANP" },
  "us-west-1": { application: "Z368ELLRRE2KJ0", network: "Z24FKFUX50B4VW" },
  "us-west-2": { application: "Z1H1FL5HABSF5", network: "Z18D5FSROUN65G" },
  "eu-west-1": { application: "Z32O12XQLNTSW2", network: "Z2IFOLAFXWLO4F" },
  "eu-west-2": { application: "ZHURV8PSTC4K8", network: "ZD4D7Y8KGAS4G" },
  "eu-central-1": { application: "Z215JYRZR1TBD5", network: "Z3F0SRJ5LGBH90" },
  "ap-southeast-1": { application: "Z1LMS91P8CMLE5", network: "ZKVM4W9LS7TM" },
  "ap-northeast-1": { application: "Z14GRHDCWA56QT", network: "Z31USIVHYNEOWT" },
};

/** The Route 53 zone that holds a load balancer's DNS name: its `CanonicalHostedZoneId`, per region and type. */
export const canonicalHostedZoneId = (region: string, type: "network" | "application"): string =>
  (ZONE_IDS[region] ?? ZONE_IDS["us-east-1"]!)[type];

export const LB_ATTRS: Record<"network" | "application", Record<string, string>> = {
  network: {
    "deletion_protection.enabled": "false",
    "load_balancing.cross_zone.enabled": "false",
    "access_logs.s3.enabled": "false",
    "access_logs.s3.bucket": "",
    "access_logs.s3.prefix": "",
    "ipv6.deny_all_igw_traffic": "false",
    "dns_record.client_routing_policy": "any_availability_zone",
  },
  application: {
    "deletion_protection.enabled": "false",
    "load_balancing.cross_zone.enabled": "true",
    "access_logs.s3.enabled": "false",
    "access_logs.s3.bucket": "",
    "access_logs.s3.prefix": "",
    "idle_timeout.timeout_seconds": "60",
    "client_keep_alive.seconds": "3600",
    "routing.http2.enabled": "true",
    "routing.http.drop_invalid_header_fields.enabled": "false",
    "routing.http.desync_mitigation_mode": "defensive",
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
    "routing.http.xff_client_port.enabled": "false",
    "routing.http.xff_header_processing.mode": "append",
    "routing.http.preserve_host_header.enabled": "false",
    "waf.fail_open.enabled": "false",
  },
};

export const v = (m: string) => new AwsError("ValidationError", m);
export const lbNotFound = () => new AwsError("LoadBalancerNotFound", "One or more load balancers not found");
export const tgNotFound = () => new AwsError("TargetGroupNotFound", "One or more target groups not found");
export const listenerNotFound = () => new AwsError("ListenerNotFound", "One or more listeners not found");

export const NLB_PROTOCOLS = ["TCP", "TLS", "UDP", "TCP_UDP"];
export const ALB_PROTOCOLS = ["HTTP", "HTTPS"];
export const DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/**
 * Load balancer names: at most 32 characters, alphanumerics and hyphens, not beginning or ending
 * with a hyphen, not beginning with "internal-"
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html).
 */
export function checkLbName(name: string): void {
  if (name.length > 32) throw v(`The load balancer name '${name}' cannot be longer than '32' characters`);
  if (!/^[A-Za-z0-9-]+$/.test(name))
    throw v(
      `The load balancer name '${name}' can only contain characters that are alphanumeric characters and hyphens(-)`,
    );
  if (name.startsWith("-") || name.endsWith("-"))
    throw v(`The load balancer name '${name}' cannot begin or end with a hyphen`);
  if (name.toLowerCase().startsWith("internal-"))
    throw v(`The load balancer name '${name}' cannot begin with 'internal-'`);
}

/** Target group names: the same rules without the "internal-" one (CreateTargetGroup reference). */
export function checkTgName(name: string): void {
  if (name.length > 32) throw v(`Target group name '${name}' cannot be longer than '32' characters`);
  if (!/^[A-Za-z0-9-]+$/.test(name))
    throw v(
      `Target group name '${name}' can only contain characters that are alphanumeric characters or hyphens(-)`,
    );
  if (name.startsWith("-") || name.endsWith("-"))
    throw v(`Target group name '${name}' cannot begin or end with '-'`);
}

export function readTags(input: Tree): Tags {
  const tags: Tags = {};
  for (const t of objList(input, "Tags.member")) {
    const k = str(t, "Key") ?? "";
    if (k in tags) throw new AwsError("DuplicateTagKeys", `Tag key '${k}' is duplicated`);
    tags[k] = str(t, "Value") ?? "";
  }
  // ELB tags: key 1-128, value 0-256, no "aws:" prefix, at most 50 (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-tags.html).
  checkTags(tags, { maxKey: 128, code: "ValidationError" });
  return tags;
}

export function readActions(input: Tree, path: string): Action[] {
  return objList(input, path).map((a) => {
    const action: Action = { Type: str(a, "Type") ?? "" };
    const tg = str(a, "TargetGroupArn") ?? str(a, "ForwardConfig.TargetGroups.member.1.TargetGroupArn");
    if (tg) action.TargetGroupArn = tg;
    const order = int(a, "Order");
    if (order !== undefined) action.Order = order;
    const rc = a.RedirectConfig;
    if (rc && typeof rc === "object" && !Array.isArray(rc)) {
      action.RedirectConfig = {};
      for (const k of ["Protocol", "Port", "Host", "Path", "Query", "StatusCode"]) {
        const val = str(rc, k);
        if (val !== undefined) action.RedirectConfig[k] = val;
      }
    }
    const fr = a.FixedResponseConfig;
    if (fr && typeof fr === "object" && !Array.isArray(fr)) {
      action.FixedResponseConfig = {};
      for (const k of ["MessageBody", "StatusCode", "ContentType"]) {
        const val = str(fr, k);
        if (val !== undefined) action.FixedResponseConfig[k] = val;
      }
    }
    return action;
  });
}

export function hexId(rng: { hex(n: number): string }): string {
  return rng.hex(16);
}

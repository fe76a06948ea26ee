import type { ClusterConfig, ConfigIssue, ServiceKind } from "@k3sinfra/core";
import type { AwsOptions } from "./options.js";
import {
  datastoreInstanceClass,
  isArmInstanceType,
  isAwsImage,
  knownImages,
  nodeInstanceType,
} from "./sizing.js";

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;
const DB_CLASS = /^db\.[a-z0-9-]+\.[a-z0-9-]+$/;
const ALB_MAX_IDLE_TIMEOUT = 4000;
// arn:aws:acm:us-east-1:123456789012:certificate/<uuid> (also the aws-cn and aws-us-gov partitions).
const ACM_ARN = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[0-9a-f-]+$/;

/** Checks the parts of a config that depend on AWS; returns every issue found (none: valid). */
export function validateAwsConfig(
  config: ClusterConfig,
  options: AwsOptions,
  roles: readonly ServiceKind[],
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  const region = config.region;
  const compute = roles.some((r) => r !== "dns");

  if (compute && !REGION.test(region)) add("region", `'${region}' is not an AWS region such as us-east-1`);

  if (compute) {
    const zones = config.zones ?? [];
    for (const [i, zone] of zones.entries()) {
      if (!(zone.startsWith(region) && /^[a-z]$/.test(zone.slice(region.length))))
        add(`zones[${i}]`, `'${zone}' is not an availability zone of ${region} (such as ${region}a)`);
    }
    if (new Set(zones).size !== zones.length) add("zones", "must not repeat a zone");
    if (zones.length === 1 && (roles.includes("datastore") || roles.includes("loadBalancer")))
      add(
        "zones",
        "needs at least 2 zones on AWS: RDS subnet groups and load balancers span 2 or more zones",
      );
    if (options.subnetIds) {
      for (const zone of zones)
        if (!options.subnetIds[zone]) add("options.aws.subnetIds", `has no subnet for zone ${zone}`);
      if (!options.vpcId) add("options.aws.vpcId", "is required with options.aws.subnetIds");
    }
  }

  if (roles.includes("nodes")) {
    const type = config.nodes.instanceType ?? options.instanceType;
    const path = config.nodes.instanceType ? "nodes.instanceType" : "options.aws.instanceType";
    if (type !== undefined && !INSTANCE_TYPE.test(type))
      add(path, `'${type}' is not an EC2 instance type such as m6i.xlarge`);
    if (type === undefined && !nodeInstanceType(config.nodes.size))
      add("nodes.size", "is larger than any instance type k3sinfra maps; set nodes.instanceType");
    const customImage = isAwsImage(config.nodes.image) || options.amiId !== undefined;
    if (type !== undefined && isArmInstanceType(type) && !customImage)
      add(
        path,
        `'${type}' is an arm64 (Graviton) type; the default images are amd64, so set options.aws.amiId`,
      );
    if (!customImage && !knownImages().includes(config.nodes.image))
      add(
        "nodes.image",
        `must be an AMI id (ami-…), resolve:ssm:<parameter>, or one of: ${knownImages().join(", ")}`,
      );
  }

  if (roles.includes("datastore")) {
    const cls = config.datastore.instanceClass ?? options.datastoreInstanceClass;
    const path = config.datastore.instanceClass
      ? "datastore.instanceClass"
      : "options.aws.datastoreInstanceClass";
    if (cls !== undefined && !DB_CLASS.test(cls))
      add(path, `'${cls}' is not an RDS instance class such as db.m6g.large`);
    if (cls === undefined && !datastoreInstanceClass(config.datastore.size))
      add("datastore.size", "is larger than any RDS class k3sinfra maps; set datastore.instanceClass");
  }

  if (roles.includes("loadBalancer")) {
    const lb = config.loadBalancer;
    if (lb.mode === "l7") {
      const match = lb.certificate ? ACM_ARN.exec(lb.certificate) : null;
      if (!lb.certificate)
        add(
          "loadBalancer.certificate",
          "is required for l7 on AWS: the ARN of an ACM certificate for the Rancher hostname",
        );
      else if (!match)
        add(
          "loadBalancer.certificate",
          "must be an ACM certificate ARN such as arn:aws:acm:us-east-1:123456789012:certificate/…",
        );
      else if (match[1] !== region)
        add(
          "loadBalancer.certificate",
          `is in ${match[1]} but the load balancer is in ${region}; an ALB can only use an ACM certificate of its own region`,
        );
      // An ALB's idle timeout is 1-4000 s; core allows up to 6000 s, which only an NLB's TCP listener takes.
      // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html
      if (lb.idleTimeoutSeconds > ALB_MAX_IDLE_TIMEOUT)
        add(
          "loadBalancer.idleTimeoutSeconds",
          `is ${lb.idleTimeoutSeconds} but an l7 ALB allows at most ${ALB_MAX_IDLE_TIMEOUT} seconds`,
        );
    } else if (lb.certificate) {
      add(
        "loadBalancer.certificate",
        "is only used with mode l7: an l4 NLB passes TLS through to Traefik (Rancher does not support TLS listeners on an NLB)",
      );
    }
  }
  return issues;
}

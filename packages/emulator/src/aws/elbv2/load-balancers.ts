/**
 * Elastic Load Balancing v2 load balancers: create, describe, delete, attributes.
 */
import type { Call, QueryOp } from "../kernel/call.js";
import { ACCOUNT_ID } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { objList, str, strList, type Tree } from "../kernel/query.js";
import { checkLbName, hexId, LB_ATTRS, type LoadBalancer, lbNotFound, readTags, v } from "./model.js";
import { lbOut } from "./output.js";
import type { Elbv2Service } from "./service.js";

export const loadBalancerOps = (svc: Elbv2Service): Record<string, QueryOp> => ({
  CreateLoadBalancer: (input, call) => createLb(svc, input, call),

  DescribeLoadBalancers: (input, call) => {
    const r = svc.region(call.region);
    const arns = strList(input, "LoadBalancerArns.member");
    const names = strList(input, "Names.member");
    if (arns.length && names.length)
      throw v("Load balancer names and load balancer ARNs cannot be specified at the same time");
    let lbs = Object.values(r.lbs);
    if (arns.length) {
      if (arns.some((a) => !r.lbs[a])) throw lbNotFound();
      lbs = arns.map((a) => r.lbs[a]!);
    }
    if (names.length) {
      const missing = names.filter((n) => !lbs.some((lb) => lb.name === n));
      if (missing.length)
        throw new AwsError("LoadBalancerNotFound", `Load balancers '[${missing.join(", ")}]' not found`);
      lbs = lbs.filter((lb) => names.includes(lb.name));
    }
    const { page, marker } = svc.page(lbs, input);
    return { LoadBalancers: page.map((lb) => lbOut(svc, call.region, lb, call.now)), NextMarker: marker };
  },

  DeleteLoadBalancer: (input, call) => {
    const r = svc.region(call.region);
    const arn = str(input, "LoadBalancerArn")!;
    const lb = r.lbs[arn];
    // Deleting a load balancer that doesn't exist succeeds (DeleteLoadBalancer reference).
    if (!lb) return {};
    if (lb.attributes["deletion_protection.enabled"] === "true") {
      throw new AwsError(
        "OperationNotPermitted",
        `Load balancer '${arn}' cannot be deleted because deletion protection is enabled`,
      );
    }
    for (const l of Object.values(r.listeners)) if (l.lbArn === arn) delete r.listeners[l.arn];
    delete r.lbs[arn];
    return {};
  },

  DescribeLoadBalancerAttributes: (input, call) => {
    const lb = svc.getLb(call.region, str(input, "LoadBalancerArn")!);
    return { Attributes: Object.entries(lb.attributes).map(([Key, Value]) => ({ Key, Value })) };
  },

  ModifyLoadBalancerAttributes: (input, call) => {
    const lb = svc.getLb(call.region, str(input, "LoadBalancerArn")!);
    const changes = objList(input, "Attributes.member").map(
      (a) => [str(a, "Key") ?? "", str(a, "Value") ?? ""] as const,
    );
    for (const [k, val] of changes) {
      // Attribute keys per type (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html).
      if (!(k in LB_ATTRS[lb.type])) throw new AwsError("InvalidConfigurationRequest", `Key ${k} not valid`);
      if (k.endsWith(".enabled") && val !== "true" && val !== "false")
        throw v(`The value of '${k}' must be 'true' or 'false'`);
      if (k === "idle_timeout.timeout_seconds" && !(Number(val) >= 1 && Number(val) <= 4000)) {
        throw new AwsError("InvalidConfigurationRequest", "Idle timeout must be between 1 and 4000 seconds");
      }
      if (k === "load_balancing.cross_zone.enabled" && lb.type === "application" && val === "false") {
        // Cross-zone load balancing is always on for ALBs (it can only be turned off per target group).
        throw new AwsError(
          "InvalidConfigurationRequest",
          "Cross-zone load balancing cannot be disabled for Application Load Balancers",
        );
      }
      if (
        k === "access_logs.s3.enabled" &&
        val === "true" &&
        !changes.some(([ck, cv]) => ck === "access_logs.s3.bucket" && cv)
      ) {
        if (!lb.attributes["access_logs.s3.bucket"])
          throw new AwsError(
            "InvalidConfigurationRequest",
            "The value of 'access_logs.s3.bucket' cannot be empty",
          );
      }
    }
    for (const [k, val] of changes) lb.attributes[k] = val;
    return { Attributes: Object.entries(lb.attributes).map(([Key, Value]) => ({ Key, Value })) };
  },
});

export function createLb(svc: Elbv2Service, input: Tree, call: Call): object {
  const r = svc.region(call.region);
  const rng = svc.ctx.rng;
  const name = str(input, "Name")!;
  checkLbName(name);
  const type = (str(input, "Type") ?? "application") as string;
  if (type !== "network" && type !== "application")
    throw v(`Load balancer type '${type}' is not supported by the emulator`);
  const scheme = str(input, "Scheme") ?? "internet-facing";
  const ipAddressType = str(input, "IpAddressType") ?? "ipv4";
  const subnetIds = [
    ...strList(input, "Subnets.member"),
    ...objList(input, "SubnetMappings.member").map((m) => str(m, "SubnetId") ?? ""),
  ];
  if (subnetIds.length === 0) throw v("At least one subnet must be specified");
  const ec2 = svc.lookups.ec2.region(call.region);
  const subnets = subnetIds.map((id) => {
    const s = ec2.subnets[id];
    if (!s) throw new AwsError("SubnetNotFound", `The subnet ID '${id}' is not valid`);
    return s;
  });
  if (new Set(subnets.map((s) => s.vpcId)).size > 1)
    throw new AwsError("InvalidConfigurationRequest", "All subnets must belong to the same VPC");
  // One subnet per AZ; ALBs need at least two AZs (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#availability-zones).
  const azs = subnets.map((s) => s.az);
  if (new Set(azs).size !== azs.length) {
    throw new AwsError(
      "InvalidConfigurationRequest",
      "A load balancer cannot be attached to multiple subnets in the same Availability Zone",
    );
  }
  if (type === "application" && azs.length < 2)
    throw v("At least two subnets in two different Availability Zones must be specified");
  const vpcId = subnets[0]!.vpcId;
  let sgs = strList(input, "SecurityGroups.member");
  for (const g of sgs) {
    const sg = ec2.groups[g];
    if (!sg || sg.vpcId !== vpcId)
      throw new AwsError("InvalidSecurityGroup", `Security group '${g}' does not exist in VPC '${vpcId}'`);
  }
  if (type === "application" && sgs.length === 0) {
    const def = Object.values(ec2.groups).find((g) => g.vpcId === vpcId && g.name === "default");
    if (def) sgs = [def.id];
  }
  const tags = readTags(input);
  const sortedSubnets = subnets
    .map((s) => ({ subnetId: s.id, az: s.az }))
    .sort((a, b) => a.az.localeCompare(b.az));

  // Same name + same settings returns the existing LB; different settings → DuplicateLoadBalancerName
  // (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html).
  const existing = Object.values(r.lbs).find((lb) => lb.name === name);
  if (existing) {
    const same =
      existing.type === type &&
      existing.scheme === scheme &&
      existing.ipAddressType === ipAddressType &&
      JSON.stringify(existing.subnets) === JSON.stringify(sortedSubnets) &&
      JSON.stringify([...existing.securityGroups].sort()) === JSON.stringify([...sgs].sort());
    if (!same)
      throw new AwsError(
        "DuplicateLoadBalancerName",
        `A load balancer with the same name '${name}' exists, but with different settings`,
      );
    return { LoadBalancers: [lbOut(svc, call.region, existing, call.now)] };
  }
  const id = hexId(rng);
  const prefix = scheme === "internal" ? "internal-" : "";
  const dnsName =
    type === "network"
      ? `${prefix}${name}-${id}.elb.${call.region}.amazonaws.com`
      : `${prefix}${name}-${1000000000 + rng.int(999999999)}.${call.region}.elb.amazonaws.com`;
  const lb: LoadBalancer = {
    arn: `arn:aws:elasticloadbalancing:${call.region}:${ACCOUNT_ID}:loadbalancer/${type === "network" ? "net" : "app"}/${name}/${id}`,
    name,
    type,
    scheme,
    vpcId,
    subnets: sortedSubnets,
    securityGroups: sgs,
    ipAddressType,
    dnsName: dnsName.toLowerCase(),
    createdAt: call.now,
    attributes: { ...LB_ATTRS[type] },
    tags,
  };
  r.lbs[lb.arn] = lb;
  return { LoadBalancers: [lbOut(svc, call.region, lb, call.now)] };
}

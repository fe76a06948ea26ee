/**
 * Elastic Load Balancing v2 response shapes, and target health as the load balancer reports it.
 */
import { iso } from "../kernel/common.js";
import {
  type Action,
  canonicalHostedZoneId,
  ELB_DURATIONS,
  type Listener,
  type LoadBalancer,
  type Target,
  type TargetGroup,
} from "./model.js";
import type { Elbv2Service } from "./service.js";
import { checkedHealth } from "./target-health.js";

// ------------------------------------------------------------ output shapes

export function lbOut(svc: Elbv2Service, region: string, lb: LoadBalancer, now: number) {
  const state = svc.lbState(lb, now);
  return {
    LoadBalancerArn: lb.arn,
    DNSName: lb.dnsName,
    CanonicalHostedZoneId: canonicalHostedZoneId(region, lb.type),
    CreatedTime: iso(lb.createdAt),
    LoadBalancerName: lb.name,
    Scheme: lb.scheme,
    VpcId: lb.vpcId,
    State: { Code: state },
    Type: lb.type,
    AvailabilityZones: lb.subnets.map((s) => ({
      ZoneName: s.az,
      SubnetId: s.subnetId,
      LoadBalancerAddresses: [],
    })),
    SecurityGroups: lb.type === "application" || lb.securityGroups.length ? lb.securityGroups : undefined,
    IpAddressType: lb.ipAddressType,
    EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic:
      lb.type === "network" && lb.securityGroups.length ? "on" : undefined,
  };
}

export function tgOut(svc: Elbv2Service, region: string, tg: TargetGroup) {
  return {
    TargetGroupArn: tg.arn,
    TargetGroupName: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    VpcId: tg.vpcId,
    HealthCheckProtocol: tg.hc.protocol,
    HealthCheckPort: tg.hc.port,
    HealthCheckEnabled: tg.hc.enabled,
    HealthCheckIntervalSeconds: tg.hc.interval,
    HealthCheckTimeoutSeconds: tg.hc.timeout,
    HealthyThresholdCount: tg.hc.healthy,
    UnhealthyThresholdCount: tg.hc.unhealthy,
    HealthCheckPath: tg.hc.path,
    Matcher: tg.hc.matcher ? { HttpCode: tg.hc.matcher } : undefined,
    LoadBalancerArns: svc.tgLoadBalancers(region, tg.arn),
    TargetType: tg.targetType,
    ProtocolVersion: tg.protocolVersion,
    IpAddressType: tg.ipAddressType,
  };
}

export function actionOut(a: Action) {
  return {
    Type: a.Type,
    TargetGroupArn: a.TargetGroupArn,
    Order: a.Order,
    RedirectConfig: a.RedirectConfig,
    FixedResponseConfig: a.FixedResponseConfig,
    ForwardConfig:
      a.Type === "forward" && a.TargetGroupArn
        ? {
            TargetGroups: [{ TargetGroupArn: a.TargetGroupArn, Weight: 1 }],
            TargetGroupStickinessConfig: { Enabled: false },
          }
        : undefined,
  };
}

export function listenerOut(l: Listener) {
  return {
    ListenerArn: l.arn,
    LoadBalancerArn: l.lbArn,
    Port: l.port,
    Protocol: l.protocol,
    Certificates: l.certificates.length ? l.certificates.map((c) => ({ CertificateArn: c })) : undefined,
    SslPolicy: l.sslPolicy,
    DefaultActions: l.actions.map((a) => actionOut(a)),
    AlpnPolicy: l.alpn.length ? l.alpn : undefined,
  };
}

/** Target health, derived from timestamps: initial → healthy once the LB is active and health checks pass. */
export function health(
  svc: Elbv2Service,
  region: string,
  tg: TargetGroup,
  t: Target | undefined,
  id: string,
  now: number,
) {
  if (!t)
    return {
      State: "unused",
      Reason: "Target.NotRegistered",
      Description: "Target is not registered to the target group",
    };
  if (t.deregisteredAt !== undefined) {
    return {
      State: "draining",
      Reason: "Target.DeregistrationInProgress",
      Description: "Target deregistration is in progress",
    };
  }
  const lbArns = svc.tgLoadBalancers(region, tg.arn);
  if (lbArns.length === 0) {
    return {
      State: "unused",
      Reason: "Target.NotInUse",
      Description: "Target group is not configured to receive traffic from the load balancer",
    };
  }
  const inst = tg.targetType === "instance" ? svc.lookups.ec2.getInstance(region, id, now) : undefined;
  if (tg.targetType === "instance") {
    const state = inst ? svc.lookups.ec2.instanceState(inst, now) : "terminated";
    // A stopped or terminated instance is `unused`, not `unhealthy` (API_TargetHealth, Target.InvalidState).
    if (state !== "running")
      return {
        State: "unused",
        Reason: "Target.InvalidState",
        Description: `Target is in the ${state} state`,
      };
  }
  const r = svc.region(region);
  let start = t.registeredAt;
  for (const arn of lbArns) {
    const lb = r.lbs[arn];
    if (lb) start = Math.max(start, lb.createdAt + ELB_DURATIONS.provisioning * 1000 * svc.scale);
  }
  for (const l of Object.values(r.listeners)) {
    if (l.actions.some((a) => a.TargetGroupArn === tg.arn)) start = Math.max(start, l.createdAt);
  }
  const timing = {
    start,
    now,
    scale: svc.scale,
    intervalSeconds: tg.hc.interval,
    healthyThreshold: tg.hc.healthy,
    unhealthyThreshold: tg.hc.unhealthy,
  };
  // A k3sinfra server answers only once its K3s is ready (boot/timeline.ts).
  return checkedHealth(timing, inst?.health, inst && svc.lookups.boot.servingFrom(inst, now));
}

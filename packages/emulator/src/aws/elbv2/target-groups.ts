/**
 * Elastic Load Balancing v2 target groups and targets: create, describe, modify, delete, register,
 * deregister, health, attributes.
 */
import type { Call, QueryOp } from "../kernel/call.js";
import { ACCOUNT_ID } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { bool, int, objList, str, strList, type Tree } from "../kernel/query.js";
import { checkTgName, hexId, readTags, type TargetGroup, tgNotFound, v } from "./model.js";
import { health, tgOut } from "./output.js";
import type { Elbv2Service } from "./service.js";

export const targetGroupOps = (svc: Elbv2Service): Record<string, QueryOp> => ({
  CreateTargetGroup: (input, call) => createTg(svc, input, call),

  DescribeTargetGroups: (input, call) => {
    const r = svc.region(call.region);
    const arns = strList(input, "TargetGroupArns.member");
    const names = strList(input, "Names.member");
    const lbArn = str(input, "LoadBalancerArn");
    let tgs = Object.values(r.tgs);
    if (arns.length) {
      if (arns.some((a) => !r.tgs[a])) throw tgNotFound();
      tgs = arns.map((a) => r.tgs[a]!);
    }
    if (names.length) {
      const missing = names.filter((n) => !tgs.some((t) => t.name === n));
      if (missing.length)
        throw new AwsError("TargetGroupNotFound", `Target groups '[${missing.join(", ")}]' not found`);
      tgs = tgs.filter((t) => names.includes(t.name));
    }
    if (lbArn) {
      svc.getLb(call.region, lbArn);
      tgs = tgs.filter((t) => svc.tgLoadBalancers(call.region, t.arn).includes(lbArn));
    }
    const { page, marker } = svc.page(tgs, input);
    return { TargetGroups: page.map((t) => tgOut(svc, call.region, t)), NextMarker: marker };
  },

  DeleteTargetGroup: (input, call) => {
    const r = svc.region(call.region);
    const arn = str(input, "TargetGroupArn")!;
    if (!r.tgs[arn]) return {};
    // A target group used by a listener or rule can't be deleted (DeleteTargetGroup reference: ResourceInUse).
    if (svc.tgLoadBalancers(call.region, arn).length) {
      throw new AwsError(
        "ResourceInUse",
        `Target group '${arn}' is currently in use by a listener or a rule`,
      );
    }
    delete r.tgs[arn];
    return {};
  },

  ModifyTargetGroup: (input, call) => {
    const tg = svc.getTg(call.region, str(input, "TargetGroupArn")!);
    const hc = { ...tg.hc };
    hc.protocol = str(input, "HealthCheckProtocol") ?? hc.protocol;
    hc.port = str(input, "HealthCheckPort") ?? hc.port;
    hc.path = str(input, "HealthCheckPath") ?? hc.path;
    hc.enabled = bool(input, "HealthCheckEnabled") ?? hc.enabled;
    hc.interval = int(input, "HealthCheckIntervalSeconds") ?? hc.interval;
    hc.timeout = int(input, "HealthCheckTimeoutSeconds") ?? hc.timeout;
    hc.healthy = int(input, "HealthyThresholdCount") ?? hc.healthy;
    hc.unhealthy = int(input, "UnhealthyThresholdCount") ?? hc.unhealthy;
    hc.matcher = str(input, "Matcher.HttpCode") ?? hc.matcher;
    if (hc.timeout >= hc.interval)
      throw v(`Health check timeout '${hc.timeout}' must be smaller than the interval '${hc.interval}'`);
    tg.hc = hc;
    return { TargetGroups: [tgOut(svc, call.region, tg)] };
  },

  RegisterTargets: (input, call) => {
    const tg = svc.getTg(call.region, str(input, "TargetGroupArn")!);
    const targets = objList(input, "Targets.member").map((t) => ({
      id: str(t, "Id") ?? "",
      port: int(t, "Port") ?? tg.port,
    }));
    if (targets.length === 0) throw v("Targets must be specified");
    for (const t of targets) {
      if (t.port === undefined)
        throw v("A port must be specified for each target when the target group has no port");
      if (tg.targetType !== "instance") continue;
      const inst = svc.lookups.ec2.getInstance(call.region, t.id, call.now);
      if (!inst)
        throw new AwsError("InvalidTarget", `The following targets are not valid instances: '${t.id}'`);
      if (inst.vpcId !== tg.vpcId)
        throw new AwsError(
          "InvalidTarget",
          `The following targets are not in the target group VPC '${tg.vpcId}': '${t.id}'`,
        );
      // Instances must be running to be registered (RegisterTargets reference).
      if (svc.lookups.ec2.instanceState(inst, call.now) !== "running") {
        throw new AwsError(
          "InvalidTarget",
          `The following targets are not in a running state and cannot be registered: '${t.id}'`,
        );
      }
    }
    svc.sweepTargets(tg, call.now);
    for (const t of targets) {
      const existing = tg.targets.find((x) => x.id === t.id && x.port === t.port);
      if (existing) {
        if (existing.deregisteredAt !== undefined) {
          existing.deregisteredAt = undefined;
          existing.registeredAt = call.now;
        }
        continue;
      }
      tg.targets.push({ id: t.id, port: t.port!, registeredAt: call.now });
    }
    return {};
  },

  DeregisterTargets: (input, call) => {
    const tg = svc.getTg(call.region, str(input, "TargetGroupArn")!);
    svc.sweepTargets(tg, call.now);
    for (const t of objList(input, "Targets.member")) {
      const id = str(t, "Id") ?? "";
      const port = int(t, "Port");
      for (const x of tg.targets) {
        if (x.id === id && (port === undefined || x.port === port) && x.deregisteredAt === undefined)
          x.deregisteredAt = call.now;
      }
    }
    return {};
  },

  DescribeTargetHealth: (input, call) => {
    const tg = svc.getTg(call.region, str(input, "TargetGroupArn")!);
    svc.sweepTargets(tg, call.now);
    const asked = objList(input, "Targets.member").map((t) => ({
      id: str(t, "Id") ?? "",
      port: int(t, "Port"),
    }));
    const rows = asked.length
      ? asked.map((a) => ({
          a,
          t: tg.targets.find((x) => x.id === a.id && (a.port === undefined || x.port === a.port)),
        }))
      : tg.targets.map((t) => ({ a: { id: t.id, port: t.port as number | undefined }, t }));
    if (asked.length && tg.targetType === "instance") {
      for (const { a } of rows) {
        if (!svc.lookups.ec2.getInstance(call.region, a.id, call.now)) {
          throw new AwsError("InvalidTarget", `The following targets are not valid instances: '${a.id}'`);
        }
      }
    }
    return {
      TargetHealthDescriptions: rows.map(({ a, t }) => {
        const inst = svc.lookups.ec2.getInstance(call.region, a.id, call.now);
        return {
          Target: { Id: a.id, Port: t?.port ?? a.port ?? tg.port, AvailabilityZone: inst?.az },
          HealthCheckPort: tg.hc.port === "traffic-port" ? String(t?.port ?? a.port ?? tg.port) : tg.hc.port,
          TargetHealth: health(svc, call.region, tg, t, a.id, call.now),
        };
      }),
    };
  },

  DescribeTargetGroupAttributes: (input, call) => {
    const tg = svc.getTg(call.region, str(input, "TargetGroupArn")!);
    return { Attributes: Object.entries(tg.attributes).map(([Key, Value]) => ({ Key, Value })) };
  },

  ModifyTargetGroupAttributes: (input, call) => {
    const tg = svc.getTg(call.region, str(input, "TargetGroupArn")!);
    const changes = objList(input, "Attributes.member").map(
      (a) => [str(a, "Key") ?? "", str(a, "Value") ?? ""] as const,
    );
    for (const [k, val] of changes) {
      // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html
      if (!(k in tg.attributes))
        throw new AwsError(
          "InvalidConfigurationRequest",
          `The attribute '${k}' is not supported for target groups with the '${tg.protocol}' protocol`,
        );
      if (k.endsWith(".enabled") && val !== "true" && val !== "false")
        throw v(`The value of '${k}' must be 'true' or 'false'`);
      if (k === "deregistration_delay.timeout_seconds" && !(/^\d+$/.test(val) && Number(val) <= 3600)) {
        throw v("The deregistration delay must be between 0 and 3600 seconds");
      }
    }
    for (const [k, val] of changes) tg.attributes[k] = val;
    return { Attributes: Object.entries(tg.attributes).map(([Key, Value]) => ({ Key, Value })) };
  },
});

export function createTg(svc: Elbv2Service, input: Tree, call: Call): object {
  const r = svc.region(call.region);
  const name = str(input, "Name")!;
  checkTgName(name);
  const targetType = str(input, "TargetType") ?? "instance";
  const protocol = str(input, "Protocol");
  const port = int(input, "Port");
  const vpcId = str(input, "VpcId");
  // Protocol, port and VPC are required unless the target type is lambda (CreateTargetGroup reference).
  if (targetType !== "lambda") {
    if (!protocol) throw v("A protocol must be specified");
    if (port === undefined) throw v("A port must be specified");
    if (!vpcId) throw v("A VPC ID must be specified");
    svc.lookups.ec2.getVpc(call.region, vpcId);
  }
  const p = protocol ?? "HTTP";
  const isHttp = p === "HTTP" || p === "HTTPS";
  const hcProtocol = str(input, "HealthCheckProtocol") ?? (isHttp ? p : "TCP");
  const hcIsHttp = hcProtocol === "HTTP" || hcProtocol === "HTTPS";
  if (isHttp && !hcIsHttp)
    throw v(
      `Health check protocol '${hcProtocol}' is not supported for target groups with the '${p}' protocol`,
    );
  const path = str(input, "HealthCheckPath");
  if (path !== undefined && !hcIsHttp) throw v("A health check path is not supported for TCP health checks");
  if (path !== undefined && !path.startsWith("/"))
    throw v("Health check path must begin with a '/' character");
  const matcher = str(input, "Matcher.HttpCode");
  if (matcher !== undefined && !hcIsHttp) throw v("A matcher is not supported for TCP health checks");
  // Defaults and ranges: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
  const interval = int(input, "HealthCheckIntervalSeconds") ?? 30;
  const timeout = int(input, "HealthCheckTimeoutSeconds") ?? (p === "HTTP" ? 6 : 10);
  if (timeout >= interval)
    throw v(`Health check timeout '${timeout}' must be smaller than the interval '${interval}'`);
  const hcPort = str(input, "HealthCheckPort") ?? "traffic-port";
  if (
    hcPort !== "traffic-port" &&
    !(/^\d+$/.test(hcPort) && Number(hcPort) >= 1 && Number(hcPort) <= 65535)
  ) {
    throw v("Health check port must be 'traffic-port' or a port number between 1 and 65535");
  }
  const tg: Omit<TargetGroup, "arn" | "createdAt" | "tags" | "targets"> = {
    name,
    protocol: p,
    port,
    vpcId,
    targetType,
    protocolVersion: isHttp ? (str(input, "ProtocolVersion") ?? "HTTP1") : undefined,
    ipAddressType: str(input, "IpAddressType") ?? "ipv4",
    hc: {
      protocol: hcProtocol,
      port: hcPort,
      enabled: bool(input, "HealthCheckEnabled") ?? true,
      path: hcIsHttp ? (path ?? "/") : undefined,
      interval,
      timeout,
      healthy: int(input, "HealthyThresholdCount") ?? 5,
      unhealthy: int(input, "UnhealthyThresholdCount") ?? 2,
      matcher: hcIsHttp ? (matcher ?? "200") : undefined,
    },
    attributes: isHttp
      ? {
          "deregistration_delay.timeout_seconds": "300",
          "stickiness.enabled": "false",
          "stickiness.type": "lb_cookie",
          "stickiness.lb_cookie.duration_seconds": "86400",
          "slow_start.duration_seconds": "0",
          "load_balancing.algorithm.type": "round_robin",
          "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
        }
      : {
          "deregistration_delay.timeout_seconds": "300",
          "deregistration_delay.connection_termination.enabled": "false",
          "stickiness.enabled": "false",
          "stickiness.type": "source_ip",
          "proxy_protocol_v2.enabled": "false",
          "preserve_client_ip.enabled": targetType === "instance" ? "true" : "false",
          "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
        },
  };
  const tags = readTags(input);
  const existing = Object.values(r.tgs).find((t) => t.name === name);
  if (existing) {
    // Same settings → the existing group; otherwise DuplicateTargetGroupName (CreateTargetGroup reference).
    const a = JSON.stringify({ ...tg, attributes: undefined });
    const { arn: _a, createdAt: _c, tags: _t, targets: _g, ...rest } = existing;
    const b = JSON.stringify({ ...rest, attributes: undefined });
    if (a !== b)
      throw new AwsError(
        "DuplicateTargetGroupName",
        `A target group with the same name '${name}' exists, but with different settings`,
      );
    return { TargetGroups: [tgOut(svc, call.region, existing)] };
  }
  const full: TargetGroup = {
    ...tg,
    arn: `arn:aws:elasticloadbalancing:${call.region}:${ACCOUNT_ID}:targetgroup/${name}/${hexId(svc.ctx.rng)}`,
    tags,
    targets: [],
    createdAt: call.now,
  };
  r.tgs[full.arn] = full;
  return { TargetGroups: [tgOut(svc, call.region, full)] };
}

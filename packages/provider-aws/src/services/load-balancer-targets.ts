import type { ElasticLoadBalancingV2, TargetGroup } from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  type HealthCheck,
  type LoadBalancerSpec,
  type LoadBalancerState,
  type NodeState,
  ProviderError,
  type ResourceContext,
  type TargetsState,
} from "@k3sinfra/core";
import { awsCall } from "../call.js";
import { hasAwsCode } from "../errors.js";
import { tagList } from "../tags.js";
import { assertElbOwned } from "./load-balancer-sweep.js";

// The load balancer's target groups (one per port, with their health check) and the nodes registered in
// them (load-balancer.ts).
const TG_NOT_FOUND = ["TargetGroupNotFoundException", "TargetGroupNotFound"];

/** Target group ports per mode: L4 passes 80 and 443 through; L7 speaks HTTP to Traefik's :80 only. */
export const targetPorts = (mode: LoadBalancerSpec["mode"]): number[] => (mode === "l4" ? [80, 443] : [80]);
export const targetGroupName = (lbName: string, port: number) => `${lbName}-${port}`;

/**
 * L7 health check. An ALB health check sends no custom Host header
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html), so
 * Traefik answers the host-less request with 404: no router matches
 * (https://github.com/rancher/docs/issues/1241, https://github.com/rancher/rancher/issues/26977). We accept
 * 200-404: 404 proves Traefik is serving on the node, 200 is what a host-less /healthz route would answer
 * should one be added, and 5xx or no answer marks the node unhealthy. It checks ingress liveness, not Rancher itself, which is also what the
 * L4 TCP check proves.
 */
const L7_MATCHER = "200-404";

const healthCheckSettings = (mode: LoadBalancerSpec["mode"], hc: HealthCheck) => {
  // An ALB only checks over HTTP(S); an NLB check over HTTP without a Host header would get Traefik's 404.
  const http = mode === "l7";
  return {
    HealthCheckEnabled: true,
    HealthCheckProtocol: http ? ("HTTP" as const) : ("TCP" as const),
    HealthCheckPort: String(hc.port),
    ...(http ? { HealthCheckPath: hc.path ?? "/healthz", Matcher: { HttpCode: L7_MATCHER } } : {}),
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: Math.min(hc.timeoutSeconds, hc.intervalSeconds - 1),
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
  };
};

export async function targetGroupByName(elb: ElasticLoadBalancingV2, name: string, ctx: ResourceContext) {
  try {
    const out = await awsCall(`ELBv2 DescribeTargetGroups (${name})`, ctx, (o) =>
      elb.describeTargetGroups({ Names: [name] }, o),
    );
    return out.TargetGroups?.[0];
  } catch (error) {
    if (hasAwsCode(error, ...TG_NOT_FOUND)) return undefined;
    throw error;
  }
}

export async function ensureTargetGroup(
  elb: ElasticLoadBalancingV2,
  vpcId: string,
  lbName: string,
  port: number,
  spec: LoadBalancerSpec,
  scheme: "internet-facing" | "internal",
  ctx: ResourceContext,
): Promise<string> {
  const name = targetGroupName(lbName, port);
  const health = healthCheckSettings(spec.mode, spec.healthCheck);
  let tg: TargetGroup | undefined = await targetGroupByName(elb, name, ctx);
  if (tg) {
    await awsCall(`ELBv2 ModifyTargetGroup (${name})`, ctx, (o) =>
      elb.modifyTargetGroup({ TargetGroupArn: tg!.TargetGroupArn, ...health }, o),
    );
  } else {
    const out = await awsCall(`ELBv2 CreateTargetGroup (${name})`, ctx, (o) =>
      elb.createTargetGroup(
        {
          Name: name,
          Protocol: spec.mode === "l4" ? "TCP" : "HTTP",
          Port: port,
          VpcId: vpcId,
          TargetType: "instance",
          ...health,
          Tags: tagList(ctx.tags, { Name: name }),
        },
        o,
      ),
    );
    tg = out.TargetGroups?.[0];
  }
  if (!tg?.TargetGroupArn) throw new ProviderError(`ELBv2 returned no target group for ${name}.`);
  await awsCall(`ELBv2 ModifyTargetGroupAttributes (${name})`, ctx, (o) =>
    elb.modifyTargetGroupAttributes(
      {
        TargetGroupArn: tg!.TargetGroupArn,
        Attributes: [
          // Default 300 s: a replaced node would hold up every change for five minutes.
          { Key: "deregistration_delay.timeout_seconds", Value: "30" },
          // Traefik in K3s does not expect the PROXY header; turning it on breaks every request (anchors B.4).
          ...(spec.mode === "l4"
            ? [
                { Key: "proxy_protocol_v2.enabled", Value: "false" },
                // An internal NLB cannot hairpin with client IPs preserved: a node reaching Rancher through
                // it (cattle-cluster-agent does) times out whenever it is sent to itself. The nodes' group
                // admits the NLB's group, so the NLB's own address as source is let in.
                // https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-troubleshooting.html#loopback-timeout
                { Key: "preserve_client_ip.enabled", Value: String(scheme !== "internal") },
              ]
            : []),
        ],
      },
      o,
    ),
  );
  return tg.TargetGroupArn;
}

/** Registers exactly these instances in every target group of the LB. */
export async function syncTargets(
  elb: ElasticLoadBalancingV2,
  lb: LoadBalancerState,
  nodes: readonly NodeState[],
  ctx: ResourceContext,
): Promise<TargetsState> {
  const wanted = [...new Set(nodes.map((n) => n.id))].sort();
  for (const port of targetPorts(lb.mode)) {
    const name = targetGroupName(lb.name, port);
    const tg = await targetGroupByName(elb, name, ctx);
    if (!tg?.TargetGroupArn)
      throw new ProviderError(`Target group ${name} does not exist; run apply to create it.`);
    // Found by name: never register into or deregister from another cluster's group.
    await assertElbOwned(elb, tg.TargetGroupArn, ctx, `target group ${name}`);
    const current = (await registered(elb, tg.TargetGroupArn, ctx)).map((t) => t.id);
    const add = wanted.filter((id) => !current.includes(id));
    const remove = current.filter((id) => !wanted.includes(id));
    if (add.length > 0)
      await awsCall(`ELBv2 RegisterTargets (${name})`, ctx, (o) =>
        elb.registerTargets({ TargetGroupArn: tg.TargetGroupArn, Targets: add.map((Id) => ({ Id })) }, o),
      );
    if (remove.length > 0)
      await awsCall(`ELBv2 DeregisterTargets (${name})`, ctx, (o) =>
        elb.deregisterTargets(
          { TargetGroupArn: tg.TargetGroupArn, Targets: remove.map((Id) => ({ Id })) },
          o,
        ),
      );
  }
  return { id: lb.id, nodeIds: wanted };
}

export async function targetsOf(
  elb: ElasticLoadBalancingV2,
  lb: LoadBalancerState,
  ctx: ResourceContext,
): Promise<TargetsState> {
  let common: string[] | undefined;
  let healthy: string[] | undefined;
  for (const port of targetPorts(lb.mode)) {
    const tg = await targetGroupByName(elb, targetGroupName(lb.name, port), ctx);
    const targets = tg?.TargetGroupArn ? await registered(elb, tg.TargetGroupArn, ctx) : [];
    const ids = targets.map((t) => t.id);
    const up = targets.filter((t) => t.state === "healthy").map((t) => t.id);
    // A node missing from any group is not fully registered, and one unhealthy in any group does not
    // serve every port: report only those registered (healthy) in every group.
    common = common === undefined ? ids : common.filter((id) => ids.includes(id));
    healthy = healthy === undefined ? up : healthy.filter((id) => up.includes(id));
  }
  return { id: lb.id, nodeIds: (common ?? []).sort(), healthy: (healthy ?? []).sort() };
}

/**
 * Registered targets and their health, leaving out `draining` ones (deregistered, on their way out).
 * States: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html
 */
export async function registered(
  elb: ElasticLoadBalancingV2,
  tgArn: string,
  ctx: ResourceContext,
): Promise<{ id: string; state: string }[]> {
  const out = await awsCall("ELBv2 DescribeTargetHealth", ctx, (o) =>
    elb.describeTargetHealth({ TargetGroupArn: tgArn }, o),
  );
  return (out.TargetHealthDescriptions ?? [])
    .filter((d) => d.TargetHealth?.State !== "draining" && d.Target?.Id)
    .map((d) => ({ id: d.Target!.Id!, state: d.TargetHealth?.State ?? "unavailable" }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

import type {
  Action,
  ElasticLoadBalancingV2,
  LoadBalancer,
  TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  type HealthCheck,
  InvalidConfigError,
  type LoadBalancerService,
  type LoadBalancerSpec,
  type LoadBalancerState,
  type NodeState,
  ProviderError,
  type ResourceContext,
  type Tags,
  type TargetsState,
  waitUntil,
} from "@k3sinfra/core";
import { awsCall, collectPages } from "../call.js";
import type { AwsClients } from "../clients.js";
import { describeElbTags } from "../elbv2-tags.js";
import { hasAwsCode } from "../errors.js";
import { type AwsOptions, DEFAULT_SSL_POLICY } from "../options.js";
import { hasTags, tagList } from "../tags.js";
import { assertElbOwned, deleteTargetGroups, findLoadBalancers } from "./load-balancer-sweep.js";

const LB_NOT_FOUND = ["LoadBalancerNotFoundException", "LoadBalancerNotFound"];
const TG_NOT_FOUND = ["TargetGroupNotFoundException", "TargetGroupNotFound"];
const LB_WAIT_MS = 20 * 60_000;

/** Target group ports per mode: L4 passes 80 and 443 through; L7 speaks HTTP to Traefik's :80 only. */
const targetPorts = (mode: LoadBalancerSpec["mode"]): number[] => (mode === "l4" ? [80, 443] : [80]);
const targetGroupName = (lbName: string, port: number) => `${lbName}-${port}`;

/**
 * L7 health check (anchors-k3s.md §4, open question 1). An ALB cannot send the Rancher Host header, so
 * Traefik answers a host-less request with 404 (no router matches). We accept 200-404: 404 proves Traefik is
 * serving on the node, 200 is what a host-less /healthz route would answer should one be added, and 5xx or
 * no answer marks the node unhealthy. It checks ingress liveness, not Rancher itself, which is also what the
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

/** ELBv2: an internet-facing NLB (L4, TCP passthrough) or ALB (L7, TLS with an ACM certificate). */
export class AwsLoadBalancerService implements LoadBalancerService {
  readonly updatable = [
    "healthCheck",
    "idleTimeoutSeconds",
    "crossZone",
    "certificate",
  ] as const satisfies readonly (keyof LoadBalancerSpec)[];
  readonly #clients: AwsClients;
  readonly #options: AwsOptions;

  constructor(clients: AwsClients, options: AwsOptions) {
    this.#clients = clients;
    this.#options = options;
  }

  native(): Promise<ElasticLoadBalancingV2> {
    return this.#clients.elbv2();
  }

  /** Creates or adopts the LB, then converges its attributes, target groups and listeners to the spec. */
  async create(spec: LoadBalancerSpec, ctx: ResourceContext): Promise<LoadBalancerState> {
    const elb = await this.#clients.elbv2();
    const type = spec.mode === "l4" ? "network" : "application";
    const subnets = spec.network.subnets.filter((s) => spec.zones.includes(s.zone));
    if (subnets.length < 2)
      throw new InvalidConfigError([
        { path: "zones", message: "a load balancer on AWS needs subnets in at least 2 zones" },
      ]);
    if (spec.mode === "l7" && !spec.certificate)
      throw new InvalidConfigError([
        { path: "loadBalancer.certificate", message: "is required for l7: an ACM certificate ARN" },
      ]);

    let lb = await this.#findByName(elb, ctx.name, ctx);
    if (lb) {
      const tags = await this.#tags(elb, [lb.LoadBalancerArn!], ctx);
      if (!hasTags(tags.get(lb.LoadBalancerArn!) ?? {}, ctx.tags))
        throw new ProviderError(
          `Load balancer ${ctx.name} exists but is not tagged as this cluster's; rename the cluster or remove it.`,
        );
      if (lb.Type !== type)
        throw new ProviderError(
          `Load balancer ${ctx.name} is ${lb.Type === "network" ? "an NLB (l4)" : "an ALB (l7)"}; changing the mode replaces it.`,
        );
    } else {
      ctx.report(`creating ${type === "network" ? "NLB" : "ALB"} ${ctx.name}`);
      try {
        const out = await awsCall(`ELBv2 CreateLoadBalancer (${ctx.name})`, ctx, (o) =>
          elb.createLoadBalancer(
            {
              Name: ctx.name,
              Type: type,
              Scheme: this.#scheme(),
              IpAddressType: "ipv4",
              Subnets: subnets.map((s) => s.id),
              // An NLB accepts security groups only at creation (load-balancer-security-groups.html).
              SecurityGroups: [spec.network.groups.loadBalancer],
              Tags: tagList(ctx.tags, { Name: ctx.name }),
            },
            o,
          ),
        );
        lb = out.LoadBalancers?.[0];
      } catch (error) {
        if (!hasAwsCode(error, "DuplicateLoadBalancerNameException", "DuplicateLoadBalancerName"))
          throw error;
        lb = await this.#findByName(elb, ctx.name, ctx);
      }
    }
    if (!lb?.LoadBalancerArn) throw new ProviderError(`ELBv2 returned no load balancer for ${ctx.name}.`);
    const lbArn = lb.LoadBalancerArn;
    lb = await this.#waitActive(elb, lbArn, ctx);

    await awsCall(`ELBv2 ModifyLoadBalancerAttributes (${ctx.name})`, ctx, (o) =>
      elb.modifyLoadBalancerAttributes(
        {
          LoadBalancerArn: lbArn,
          Attributes:
            spec.mode === "l4"
              ? // Off by default on an NLB: without it a zone whose node is down black-holes its share.
                [{ Key: "load_balancing.cross_zone.enabled", Value: String(spec.crossZone) }]
              : [
                  // Rancher's websockets (shells, agents) want long-lived connections.
                  { Key: "idle_timeout.timeout_seconds", Value: String(spec.idleTimeoutSeconds) },
                  { Key: "routing.http.drop_invalid_header_fields.enabled", Value: "true" },
                ],
        },
        o,
      ),
    );

    const groups = new Map<number, string>();
    for (const port of targetPorts(spec.mode)) {
      groups.set(port, await this.#ensureTargetGroup(elb, lb.VpcId!, ctx.name, port, spec, ctx));
    }
    await this.#ensureListeners(elb, lbArn, spec, groups, ctx);
    return this.#toState(lb, spec.mode, spec);
  }

  async read(state: LoadBalancerState, ctx: ResourceContext): Promise<LoadBalancerState | undefined> {
    const elb = await this.#clients.elbv2();
    const lb = await this.#findByArn(elb, state.id, ctx);
    return lb ? { ...this.#toState(lb, state.mode), sourceCidrs: state.sourceCidrs } : undefined;
  }

  /** Converges the in-place settings; the same path as `create`, which already reconciles an existing LB. */
  update(
    _state: LoadBalancerState,
    spec: LoadBalancerSpec,
    ctx: ResourceContext,
  ): Promise<LoadBalancerState> {
    return this.create(spec, ctx);
  }

  /**
   * Listeners, then the LB (waiting until it is gone), then the target groups it no longer uses; each only
   * after checking that its ownership tags name this cluster.
   */
  async delete(state: LoadBalancerState, ctx: ResourceContext): Promise<void> {
    const elb = await this.#clients.elbv2();
    if (state.id.includes(":loadbalancer/")) {
      const lb = await this.#findByArn(elb, state.id, ctx);
      if (lb) {
        await assertElbOwned(elb, state.id, ctx, `load balancer ${state.name}`);
        const listeners = await this.#listeners(elb, state.id, ctx);
        for (const l of listeners) {
          try {
            await awsCall("ELBv2 DeleteListener", ctx, (o) =>
              elb.deleteListener({ ListenerArn: l.ListenerArn }, o),
            );
          } catch (error) {
            if (!hasAwsCode(error, "ListenerNotFoundException", "ListenerNotFound")) throw error;
          }
        }
        ctx.report(`deleting load balancer ${state.name}`);
        // Succeeds when the LB is already gone (DeleteLoadBalancer API reference).
        await awsCall(`ELBv2 DeleteLoadBalancer (${state.name})`, ctx, (o) =>
          elb.deleteLoadBalancer({ LoadBalancerArn: state.id }, o),
        );
        await waitUntil(
          async () =>
            (await this.#findByArn(elb, state.id, ctx))
              ? { state: "RETRY", reason: "load balancer still exists" }
              : { state: "SUCCESS", value: undefined },
          {
            description: `load balancer ${state.name} to be deleted`,
            maxWaitMs: LB_WAIT_MS,
            signal: ctx.signal,
            ...ctx.poll,
          },
        );
      }
    }
    await deleteTargetGroups(elb, state.name, ctx);
  }

  /** Tagged load balancers, and tagged target groups whose load balancer is gone (load-balancer-sweep.ts). */
  async findByTags(tags: Tags, ctx: ResourceContext): Promise<LoadBalancerState[]> {
    const elb = await this.#clients.elbv2();
    return findLoadBalancers(elb, tags, ctx, (lb) =>
      this.#toState(lb, lb.Type === "application" ? "l7" : "l4"),
    );
  }

  /** Registers exactly these instances in every target group of the LB. */
  async setTargets(
    lb: LoadBalancerState,
    nodes: readonly NodeState[],
    ctx: ResourceContext,
  ): Promise<TargetsState> {
    const elb = await this.#clients.elbv2();
    const wanted = [...new Set(nodes.map((n) => n.id))].sort();
    for (const port of targetPorts(lb.mode)) {
      const name = targetGroupName(lb.name, port);
      const tg = await this.#targetGroupByName(elb, name, ctx);
      if (!tg?.TargetGroupArn)
        throw new ProviderError(`Target group ${name} does not exist; run apply to create it.`);
      // Found by name: never register into or deregister from another cluster's group.
      await assertElbOwned(elb, tg.TargetGroupArn, ctx, `target group ${name}`);
      const current = (await this.#registered(elb, tg.TargetGroupArn, ctx)).map((t) => t.id);
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

  async getTargets(lb: LoadBalancerState, ctx: ResourceContext): Promise<TargetsState | undefined> {
    const elb = await this.#clients.elbv2();
    if (!(await this.#findByArn(elb, lb.id, ctx))) return undefined;
    let common: string[] | undefined;
    let healthy: string[] | undefined;
    for (const port of targetPorts(lb.mode)) {
      const tg = await this.#targetGroupByName(elb, targetGroupName(lb.name, port), ctx);
      const targets = tg?.TargetGroupArn ? await this.#registered(elb, tg.TargetGroupArn, ctx) : [];
      const ids = targets.map((t) => t.id);
      const up = targets.filter((t) => t.state === "healthy").map((t) => t.id);
      // A node missing from any group is not fully registered, and one unhealthy in any group does not
      // serve every port: report only those registered (healthy) in every group.
      common = common === undefined ? ids : common.filter((id) => ids.includes(id));
      healthy = healthy === undefined ? up : healthy.filter((id) => up.includes(id));
    }
    return { id: lb.id, nodeIds: (common ?? []).sort(), healthy: (healthy ?? []).sort() };
  }

  #toState(lb: LoadBalancer, mode: LoadBalancerSpec["mode"], spec?: LoadBalancerSpec): LoadBalancerState {
    const cidrs = spec?.network.subnets
      .filter((s) => spec.zones.includes(s.zone))
      .map((s) => s.cidr)
      .filter((c): c is string => Boolean(c));
    return {
      id: lb.LoadBalancerArn!,
      name: lb.LoadBalancerName!,
      mode,
      hostname: lb.DNSName,
      alias:
        lb.CanonicalHostedZoneId && lb.DNSName
          ? { zoneId: lb.CanonicalHostedZoneId, dnsName: lb.DNSName }
          : undefined,
      // An ALB connects to the targets from its nodes in these subnets: Traefik trusts their forwarded headers.
      sourceCidrs: mode === "l7" && cidrs && cidrs.length > 0 ? cidrs : undefined,
      status: lb.State?.Code ?? "unknown",
    };
  }

  #scheme(): "internet-facing" | "internal" {
    return this.#options.scheme ?? "internet-facing";
  }

  async #findByName(elb: ElasticLoadBalancingV2, name: string, ctx: ResourceContext) {
    try {
      const out = await awsCall(`ELBv2 DescribeLoadBalancers (${name})`, ctx, (o) =>
        elb.describeLoadBalancers({ Names: [name] }, o),
      );
      return out.LoadBalancers?.[0];
    } catch (error) {
      if (hasAwsCode(error, ...LB_NOT_FOUND)) return undefined;
      throw error;
    }
  }

  async #findByArn(elb: ElasticLoadBalancingV2, arn: string, ctx: ResourceContext) {
    if (!arn.includes(":loadbalancer/")) return undefined;
    try {
      const out = await awsCall("ELBv2 DescribeLoadBalancers", ctx, (o) =>
        elb.describeLoadBalancers({ LoadBalancerArns: [arn] }, o),
      );
      return out.LoadBalancers?.[0];
    } catch (error) {
      if (hasAwsCode(error, ...LB_NOT_FOUND)) return undefined;
      throw error;
    }
  }

  #tags(elb: ElasticLoadBalancingV2, arns: readonly string[], ctx: ResourceContext) {
    return describeElbTags(elb, arns, ctx);
  }

  #waitActive(elb: ElasticLoadBalancingV2, arn: string, ctx: ResourceContext): Promise<LoadBalancer> {
    return waitUntil(
      async () => {
        const lb = await this.#findByArn(elb, arn, ctx);
        const code = lb?.State?.Code;
        if (lb && code === "active") return { state: "SUCCESS", value: lb };
        if (code === "failed")
          return { state: "FAILURE", reason: lb?.State?.Reason ?? "load balancer failed" };
        return { state: "RETRY", reason: `load balancer is ${code ?? "not visible yet"}` };
      },
      {
        description: `load balancer ${arn} to be active`,
        maxWaitMs: LB_WAIT_MS,
        signal: ctx.signal,
        ...ctx.poll,
        onRetry: (n, reason) => {
          if (n % 5 === 1) ctx.report(`waiting: ${reason}`);
        },
      },
    );
  }

  async #targetGroupByName(elb: ElasticLoadBalancingV2, name: string, ctx: ResourceContext) {
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

  async #ensureTargetGroup(
    elb: ElasticLoadBalancingV2,
    vpcId: string,
    lbName: string,
    port: number,
    spec: LoadBalancerSpec,
    ctx: ResourceContext,
  ): Promise<string> {
    const name = targetGroupName(lbName, port);
    const health = healthCheckSettings(spec.mode, spec.healthCheck);
    let tg: TargetGroup | undefined = await this.#targetGroupByName(elb, name, ctx);
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
                  { Key: "preserve_client_ip.enabled", Value: String(this.#scheme() !== "internal") },
                ]
              : []),
          ],
        },
        o,
      ),
    );
    return tg.TargetGroupArn;
  }

  async #listeners(elb: ElasticLoadBalancingV2, lbArn: string, ctx: ResourceContext) {
    try {
      return await collectPages(
        (Marker) =>
          awsCall("ELBv2 DescribeListeners", ctx, (o) =>
            elb.describeListeners({ LoadBalancerArn: lbArn, Marker }, o),
          ),
        (p) => p.Listeners,
        (p) => p.NextMarker,
      );
    } catch (error) {
      if (hasAwsCode(error, ...LB_NOT_FOUND)) return [];
      throw error;
    }
  }

  async #ensureListeners(
    elb: ElasticLoadBalancingV2,
    lbArn: string,
    spec: LoadBalancerSpec,
    groups: ReadonlyMap<number, string>,
    ctx: ResourceContext,
  ): Promise<void> {
    const forward = (port: number): Action[] => [{ Type: "forward", TargetGroupArn: groups.get(port)! }];
    const wanted =
      spec.mode === "l4"
        ? [80, 443].map((port) => ({ Port: port, Protocol: "TCP" as const, DefaultActions: forward(port) }))
        : [
            {
              Port: 443,
              Protocol: "HTTPS" as const,
              Certificates: [{ CertificateArn: spec.certificate! }],
              SslPolicy: this.#options.sslPolicy ?? DEFAULT_SSL_POLICY,
              DefaultActions: forward(80),
            },
            {
              Port: 80,
              Protocol: "HTTP" as const,
              DefaultActions: [
                {
                  Type: "redirect" as const,
                  RedirectConfig: { Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301" as const },
                },
              ],
            },
          ];
    const existing = await this.#listeners(elb, lbArn, ctx);
    for (const listener of wanted) {
      const found = existing.find((l) => l.Port === listener.Port);
      let arn = found?.ListenerArn;
      if (arn) {
        await awsCall(`ELBv2 ModifyListener (:${listener.Port})`, ctx, (o) =>
          elb.modifyListener({ ListenerArn: arn, ...listener }, o),
        );
      } else {
        const out = await awsCall(`ELBv2 CreateListener (:${listener.Port})`, ctx, (o) =>
          elb.createListener({ LoadBalancerArn: lbArn, ...listener, Tags: tagList(ctx.tags) }, o),
        );
        arn = out.Listeners?.[0]?.ListenerArn;
      }
      if (spec.mode === "l4" && arn) {
        // NLB TCP idle timeout (default 350 s, 60-6000 s) is a listener attribute.
        // https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html
        try {
          await awsCall(`ELBv2 ModifyListenerAttributes (:${listener.Port})`, ctx, (o) =>
            elb.modifyListenerAttributes(
              {
                ListenerArn: arn,
                Attributes: [{ Key: "tcp.idle_timeout.seconds", Value: String(spec.idleTimeoutSeconds) }],
              },
              o,
            ),
          );
        } catch (error) {
          // An AWS-compatible endpoint without this (2024) API keeps the 350 s default: say so, carry on.
          if (!hasAwsCode(error, "InvalidAction", "UnknownOperationException")) throw error;
          ctx.report("this endpoint cannot set the NLB idle timeout; it stays at the 350 s default");
        }
      }
    }
  }

  /**
   * Registered targets and their health, leaving out `draining` ones (deregistered, on their way out).
   * States: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html
   */
  async #registered(
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
}

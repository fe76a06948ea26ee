import type { ElasticLoadBalancingV2, LoadBalancer } from "@aws-sdk/client-elastic-load-balancing-v2";
import {
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
import { awsCall } from "../call.js";
import type { AwsClients } from "../clients.js";
import { describeElbTags } from "../elbv2-tags.js";
import { hasAwsCode } from "../errors.js";
import type { AwsOptions } from "../options.js";
import { hasTags, tagList } from "../tags.js";
import { describeListeners, ensureListeners, LB_NOT_FOUND } from "./load-balancer-listeners.js";
import { assertElbOwned, deleteTargetGroups, findLoadBalancers } from "./load-balancer-sweep.js";
import { ensureTargetGroup, syncTargets, targetPorts, targetsOf } from "./load-balancer-targets.js";

const LB_WAIT_MS = 20 * 60_000;

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
      groups.set(port, await ensureTargetGroup(elb, lb.VpcId!, ctx.name, port, spec, this.#scheme(), ctx));
    }
    await ensureListeners(elb, lbArn, spec, groups, this.#options.sslPolicy, ctx);
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
        const listeners = await describeListeners(elb, state.id, ctx);
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
    return syncTargets(await this.#clients.elbv2(), lb, nodes, ctx);
  }

  async getTargets(lb: LoadBalancerState, ctx: ResourceContext): Promise<TargetsState | undefined> {
    const elb = await this.#clients.elbv2();
    if (!(await this.#findByArn(elb, lb.id, ctx))) return undefined;
    return targetsOf(elb, lb, ctx);
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
}

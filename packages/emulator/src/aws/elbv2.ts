/**
 * Elastic Load Balancing v2 (awsQuery, API 2015-12-01): network and application load balancers,
 * target groups and targets, listeners, attributes, tags.
 * API reference: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/Welcome.html
 */
import type { InventoryItem } from "../types.js";
import { ACCOUNT_ID, checkTags, iso, phase, type Tags } from "./common.js";
import { AwsError } from "./errors.js";
import type { AwsCloud, Call, QueryOp } from "./index.js";
import { bool, int, objList, str, strList, type Tree } from "./query.js";
import { checkedHealth, drained } from "./target-health.js";

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
export const ELB_DURATIONS = { provisioning: 150 };

/**
 * Route 53 hosted zone ids of load balancer DNS names, per region and type
 * (https://docs.aws.amazon.com/general/latest/gr/elb.html).
 */
const ZONE_IDS: Record<string, { application: string; network: string }> = {
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

const LB_ATTRS: Record<"network" | "application", Record<string, string>> = {
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

const v = (m: string) => new AwsError("ValidationError", m);
const lbNotFound = () => new AwsError("LoadBalancerNotFound", "One or more load balancers not found");
const tgNotFound = () => new AwsError("TargetGroupNotFound", "One or more target groups not found");
const listenerNotFound = () => new AwsError("ListenerNotFound", "One or more listeners not found");

const NLB_PROTOCOLS = ["TCP", "TLS", "UDP", "TCP_UDP"];
const ALB_PROTOCOLS = ["HTTP", "HTTPS"];
const DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

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

function readTags(input: Tree): Tags {
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

function readActions(input: Tree, path: string): Action[] {
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

function hexId(rng: { hex(n: number): string }): string {
  return rng.hex(16);
}

export class Elbv2Service {
  constructor(private readonly cloud: AwsCloud) {}

  private get scale(): number {
    return this.cloud.ctx.timeScale;
  }

  region(region: string): ElbRegion {
    const all = this.cloud.state.elbv2;
    let r = all[region];
    if (!r) {
      r = { lbs: {}, tgs: {}, listeners: {} };
      all[region] = r;
    }
    return r;
  }

  lbState(lb: LoadBalancer, now: number): string {
    return phase(now, lb.createdAt, this.scale, [["provisioning", ELB_DURATIONS.provisioning]], "active");
  }

  subnetInUse(region: string, subnetId: string, _now: number): boolean {
    const r = this.cloud.state.elbv2[region];
    return !!r && Object.values(r.lbs).some((lb) => lb.subnets.some((s) => s.subnetId === subnetId));
  }

  groupInUse(region: string, groupId: string, _now: number): boolean {
    const r = this.cloud.state.elbv2[region];
    return !!r && Object.values(r.lbs).some((lb) => lb.securityGroups.includes(groupId));
  }

  inventory(now: number): InventoryItem[] {
    const out: InventoryItem[] = [];
    for (const [region, r] of Object.entries(this.cloud.state.elbv2)) {
      const base = { cloud: "aws", service: "elbv2", region };
      for (const lb of Object.values(r.lbs))
        out.push({
          ...base,
          type: "load-balancer",
          id: lb.arn,
          name: lb.name,
          state: this.lbState(lb, now),
          tags: { ...lb.tags },
        });
      for (const tg of Object.values(r.tgs))
        out.push({
          ...base,
          type: "target-group",
          id: tg.arn,
          name: tg.name,
          state: "active",
          tags: { ...tg.tags },
        });
      // One item per registration (target group × instance), its state the health the LB reports.
      for (const tg of Object.values(r.tgs))
        for (const t of tg.targets) {
          if (drained(t, tg.attributes, now, this.scale)) continue;
          out.push({
            ...base,
            type: "target",
            id: t.id,
            name: tg.name,
            state: this.health(region, tg, t, t.id, now).State,
            tags: { ...tg.tags },
          });
        }
      for (const l of Object.values(r.listeners))
        out.push({
          ...base,
          type: "listener",
          id: l.arn,
          name: `${l.protocol}:${l.port}`,
          state: "active",
          tags: { ...l.tags },
        });
    }
    return out;
  }

  private getLb(region: string, arn: string): LoadBalancer {
    const lb = this.region(region).lbs[arn];
    if (!lb) throw lbNotFound();
    return lb;
  }

  private getTg(region: string, arn: string): TargetGroup {
    const tg = this.region(region).tgs[arn];
    if (!tg) throw tgNotFound();
    return tg;
  }

  private tgLoadBalancers(region: string, tgArn: string): string[] {
    const r = this.region(region);
    return [
      ...new Set(
        Object.values(r.listeners)
          .filter((l) => l.actions.some((a) => a.TargetGroupArn === tgArn))
          .map((l) => l.lbArn),
      ),
    ];
  }

  // ------------------------------------------------------------ output shapes

  private lbOut(region: string, lb: LoadBalancer, now: number) {
    const state = this.lbState(lb, now);
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

  private tgOut(region: string, tg: TargetGroup) {
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
      LoadBalancerArns: this.tgLoadBalancers(region, tg.arn),
      TargetType: tg.targetType,
      ProtocolVersion: tg.protocolVersion,
      IpAddressType: tg.ipAddressType,
    };
  }

  private actionOut(a: Action) {
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

  private listenerOut(l: Listener) {
    return {
      ListenerArn: l.arn,
      LoadBalancerArn: l.lbArn,
      Port: l.port,
      Protocol: l.protocol,
      Certificates: l.certificates.length ? l.certificates.map((c) => ({ CertificateArn: c })) : undefined,
      SslPolicy: l.sslPolicy,
      DefaultActions: l.actions.map((a) => this.actionOut(a)),
      AlpnPolicy: l.alpn.length ? l.alpn : undefined,
    };
  }

  /** Target health, derived from timestamps: initial → healthy once the LB is active and health checks pass. */
  private health(region: string, tg: TargetGroup, t: Target | undefined, id: string, now: number) {
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
    const lbArns = this.tgLoadBalancers(region, tg.arn);
    if (lbArns.length === 0) {
      return {
        State: "unused",
        Reason: "Target.NotInUse",
        Description: "Target group is not configured to receive traffic from the load balancer",
      };
    }
    const inst = tg.targetType === "instance" ? this.cloud.ec2.getInstance(region, id, now) : undefined;
    if (tg.targetType === "instance") {
      const state = inst ? this.cloud.ec2.instanceState(inst, now) : "terminated";
      // A stopped or terminated instance is `unused`, not `unhealthy` (API_TargetHealth, Target.InvalidState).
      if (state !== "running")
        return {
          State: "unused",
          Reason: "Target.InvalidState",
          Description: `Target is in the ${state} state`,
        };
    }
    const r = this.region(region);
    let start = t.registeredAt;
    for (const arn of lbArns) {
      const lb = r.lbs[arn];
      if (lb) start = Math.max(start, lb.createdAt + ELB_DURATIONS.provisioning * 1000 * this.scale);
    }
    for (const l of Object.values(r.listeners)) {
      if (l.actions.some((a) => a.TargetGroupArn === tg.arn)) start = Math.max(start, l.createdAt);
    }
    const timing = {
      start,
      now,
      scale: this.scale,
      intervalSeconds: tg.hc.interval,
      healthyThreshold: tg.hc.healthy,
      unhealthyThreshold: tg.hc.unhealthy,
    };
    // A k3sinfra server answers only once its K3s is ready (boot-timeline.ts).
    return checkedHealth(timing, inst?.health, inst && this.cloud.timeline.servingFrom(inst, now));
  }

  /** Drop targets whose deregistration delay has passed. */
  private sweepTargets(tg: TargetGroup, now: number): void {
    tg.targets = tg.targets.filter((t) => !drained(t, tg.attributes, now, this.scale));
  }

  // ------------------------------------------------------------ operations

  readonly ops: Record<string, QueryOp> = {
    CreateLoadBalancer: (input, call) => this.createLb(input, call),

    DescribeLoadBalancers: (input, call) => {
      const r = this.region(call.region);
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
      const { page, marker } = this.page(lbs, input);
      return { LoadBalancers: page.map((lb) => this.lbOut(call.region, lb, call.now)), NextMarker: marker };
    },

    DeleteLoadBalancer: (input, call) => {
      const r = this.region(call.region);
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

    CreateTargetGroup: (input, call) => this.createTg(input, call),

    DescribeTargetGroups: (input, call) => {
      const r = this.region(call.region);
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
        this.getLb(call.region, lbArn);
        tgs = tgs.filter((t) => this.tgLoadBalancers(call.region, t.arn).includes(lbArn));
      }
      const { page, marker } = this.page(tgs, input);
      return { TargetGroups: page.map((t) => this.tgOut(call.region, t)), NextMarker: marker };
    },

    DeleteTargetGroup: (input, call) => {
      const r = this.region(call.region);
      const arn = str(input, "TargetGroupArn")!;
      if (!r.tgs[arn]) return {};
      // A target group used by a listener or rule can't be deleted (DeleteTargetGroup reference: ResourceInUse).
      if (this.tgLoadBalancers(call.region, arn).length) {
        throw new AwsError(
          "ResourceInUse",
          `Target group '${arn}' is currently in use by a listener or a rule`,
        );
      }
      delete r.tgs[arn];
      return {};
    },

    ModifyTargetGroup: (input, call) => {
      const tg = this.getTg(call.region, str(input, "TargetGroupArn")!);
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
      return { TargetGroups: [this.tgOut(call.region, tg)] };
    },

    RegisterTargets: (input, call) => {
      const tg = this.getTg(call.region, str(input, "TargetGroupArn")!);
      const targets = objList(input, "Targets.member").map((t) => ({
        id: str(t, "Id") ?? "",
        port: int(t, "Port") ?? tg.port,
      }));
      if (targets.length === 0) throw v("Targets must be specified");
      for (const t of targets) {
        if (t.port === undefined)
          throw v("A port must be specified for each target when the target group has no port");
        if (tg.targetType !== "instance") continue;
        const inst = this.cloud.ec2.getInstance(call.region, t.id, call.now);
        if (!inst)
          throw new AwsError("InvalidTarget", `The following targets are not valid instances: '${t.id}'`);
        if (inst.vpcId !== tg.vpcId)
          throw new AwsError(
            "InvalidTarget",
            `The following targets are not in the target group VPC '${tg.vpcId}': '${t.id}'`,
          );
        // Instances must be running to be registered (RegisterTargets reference).
        if (this.cloud.ec2.instanceState(inst, call.now) !== "running") {
          throw new AwsError(
            "InvalidTarget",
            `The following targets are not in a running state and cannot be registered: '${t.id}'`,
          );
        }
      }
      this.sweepTargets(tg, call.now);
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
      const tg = this.getTg(call.region, str(input, "TargetGroupArn")!);
      this.sweepTargets(tg, call.now);
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
      const tg = this.getTg(call.region, str(input, "TargetGroupArn")!);
      this.sweepTargets(tg, call.now);
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
          if (!this.cloud.ec2.getInstance(call.region, a.id, call.now)) {
            throw new AwsError("InvalidTarget", `The following targets are not valid instances: '${a.id}'`);
          }
        }
      }
      return {
        TargetHealthDescriptions: rows.map(({ a, t }) => {
          const inst = this.cloud.ec2.getInstance(call.region, a.id, call.now);
          return {
            Target: { Id: a.id, Port: t?.port ?? a.port ?? tg.port, AvailabilityZone: inst?.az },
            HealthCheckPort:
              tg.hc.port === "traffic-port" ? String(t?.port ?? a.port ?? tg.port) : tg.hc.port,
            TargetHealth: this.health(call.region, tg, t, a.id, call.now),
          };
        }),
      };
    },

    CreateListener: (input, call) => this.createListener(input, call),

    DescribeListeners: (input, call) => {
      const r = this.region(call.region);
      const lbArn = str(input, "LoadBalancerArn");
      const arns = strList(input, "ListenerArns.member");
      if (!lbArn && !arns.length) throw v("You must specify either listener ARNs or a load balancer ARN");
      let ls = Object.values(r.listeners);
      if (lbArn) {
        this.getLb(call.region, lbArn);
        ls = ls.filter((l) => l.lbArn === lbArn);
      }
      if (arns.length) {
        if (arns.some((a) => !r.listeners[a])) throw listenerNotFound();
        ls = ls.filter((l) => arns.includes(l.arn));
      }
      ls.sort((a, b) => a.port - b.port);
      const { page, marker } = this.page(ls, input);
      return { Listeners: page.map((l) => this.listenerOut(l)), NextMarker: marker };
    },

    ModifyListener: (input, call) => {
      const r = this.region(call.region);
      const l = r.listeners[str(input, "ListenerArn")!];
      if (!l) throw listenerNotFound();
      const lb = this.getLb(call.region, l.lbArn);
      const next: Listener = { ...l };
      next.port = int(input, "Port") ?? l.port;
      next.protocol = str(input, "Protocol") ?? l.protocol;
      const certs = objList(input, "Certificates.member").map((c) => str(c, "CertificateArn") ?? "");
      if (certs.length) next.certificates = certs;
      next.sslPolicy = str(input, "SslPolicy") ?? l.sslPolicy;
      const actions = readActions(input, "DefaultActions.member");
      if (actions.length) next.actions = actions;
      if (!["HTTPS", "TLS"].includes(next.protocol)) {
        next.certificates = [];
        next.sslPolicy = undefined;
      } else next.sslPolicy ??= DEFAULT_SSL_POLICY;
      this.checkListener(call, lb, next, l.arn);
      r.listeners[l.arn] = next;
      return { Listeners: [this.listenerOut(next)] };
    },

    DeleteListener: (input, call) => {
      const r = this.region(call.region);
      const arn = str(input, "ListenerArn")!;
      if (!r.listeners[arn]) throw listenerNotFound();
      delete r.listeners[arn];
      return {};
    },

    DescribeListenerAttributes: (input, call) => {
      const l = this.region(call.region).listeners[str(input, "ListenerArn")!];
      if (!l) throw listenerNotFound();
      return {
        Attributes: Object.entries(this.listenerAttributes(l)).map(([Key, Value]) => ({ Key, Value })),
      };
    },

    ModifyListenerAttributes: (input, call) => {
      const l = this.region(call.region).listeners[str(input, "ListenerArn")!];
      if (!l) throw listenerNotFound();
      const attrs = this.listenerAttributes(l);
      const changes = objList(input, "Attributes.member").map(
        (a) => [str(a, "Key") ?? "", str(a, "Value") ?? ""] as const,
      );
      for (const [k, val] of changes) {
        // TCP listeners of NLBs: tcp.idle_timeout.seconds, 60-6000, default 350
        // (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html).
        if (!(k in attrs)) throw v(`The attribute '${k}' is not supported for ${l.protocol} listeners`);
        if (
          k === "tcp.idle_timeout.seconds" &&
          !(/^\d+$/.test(val) && Number(val) >= 60 && Number(val) <= 6000)
        ) {
          throw v("The TCP idle timeout must be between 60 and 6000 seconds");
        }
      }
      for (const [k, val] of changes) attrs[k] = val;
      l.attributes = attrs;
      return { Attributes: Object.entries(attrs).map(([Key, Value]) => ({ Key, Value })) };
    },

    DescribeLoadBalancerAttributes: (input, call) => {
      const lb = this.getLb(call.region, str(input, "LoadBalancerArn")!);
      return { Attributes: Object.entries(lb.attributes).map(([Key, Value]) => ({ Key, Value })) };
    },

    ModifyLoadBalancerAttributes: (input, call) => {
      const lb = this.getLb(call.region, str(input, "LoadBalancerArn")!);
      const changes = objList(input, "Attributes.member").map(
        (a) => [str(a, "Key") ?? "", str(a, "Value") ?? ""] as const,
      );
      for (const [k, val] of changes) {
        // Attribute keys per type (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html).
        if (!(k in LB_ATTRS[lb.type]))
          throw new AwsError("InvalidConfigurationRequest", `Key ${k} not valid`);
        if (k.endsWith(".enabled") && val !== "true" && val !== "false")
          throw v(`The value of '${k}' must be 'true' or 'false'`);
        if (k === "idle_timeout.timeout_seconds" && !(Number(val) >= 1 && Number(val) <= 4000)) {
          throw new AwsError(
            "InvalidConfigurationRequest",
            "Idle timeout must be between 1 and 4000 seconds",
          );
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

    DescribeTargetGroupAttributes: (input, call) => {
      const tg = this.getTg(call.region, str(input, "TargetGroupArn")!);
      return { Attributes: Object.entries(tg.attributes).map(([Key, Value]) => ({ Key, Value })) };
    },

    ModifyTargetGroupAttributes: (input, call) => {
      const tg = this.getTg(call.region, str(input, "TargetGroupArn")!);
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

    AddTags: (input, call) => {
      const arns = strList(input, "ResourceArns.member");
      const tags = readTags(input);
      const targets = arns.map((a) => this.tagsOf(call.region, a));
      for (const t of targets)
        if (Object.keys({ ...t, ...tags }).length > 50)
          throw new AwsError(
            "TooManyTags",
            "The quota for the number of tags that can be assigned to a load balancer has been reached",
          );
      for (const t of targets) Object.assign(t, tags);
      return {};
    },

    RemoveTags: (input, call) => {
      const arns = strList(input, "ResourceArns.member");
      const keys = strList(input, "TagKeys.member");
      for (const a of arns) {
        const t = this.tagsOf(call.region, a);
        for (const k of keys) delete t[k];
      }
      return {};
    },

    DescribeTags: (input, call) => {
      const arns = strList(input, "ResourceArns.member");
      return {
        TagDescriptions: arns.map((a) => ({
          ResourceArn: a,
          Tags: Object.entries(this.tagsOf(call.region, a)).map(([Key, Value]) => ({ Key, Value })),
        })),
      };
    },

    DescribeSSLPolicies: () => ({
      SslPolicies: [
        DEFAULT_SSL_POLICY,
        "ELBSecurityPolicy-2016-08",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
      ].map((n) => ({
        SslProtocols: ["TLSv1.2"],
        Name: n,
      })),
    }),
  };

  private listenerAttributes(l: Listener): Record<string, string> {
    const defaults: Record<string, string> =
      l.protocol === "TCP" ? { "tcp.idle_timeout.seconds": "350" } : {};
    return { ...defaults, ...(l.attributes ?? {}) };
  }

  private tagsOf(region: string, arn: string): Tags {
    const r = this.region(region);
    if (arn.includes(":loadbalancer/")) return this.getLb(region, arn).tags;
    if (arn.includes(":targetgroup/")) return this.getTg(region, arn).tags;
    if (arn.includes(":listener/")) {
      const l = r.listeners[arn];
      if (!l) throw listenerNotFound();
      return l.tags;
    }
    throw v(`'${arn}' is not a valid load balancer, target group or listener ARN`);
  }

  /** ELBv2 Marker paging (PageSize 1-400). */
  private page<T>(items: T[], input: Tree): { page: T[]; marker?: string } {
    const size = int(input, "PageSize") ?? 400;
    const m = str(input, "Marker");
    const start = m ? Number(Buffer.from(m, "base64url").toString()) || 0 : 0;
    const page = items.slice(start, start + size);
    return start + size < items.length
      ? { page, marker: Buffer.from(String(start + size)).toString("base64url") }
      : { page };
  }

  private createLb(input: Tree, call: Call): object {
    const r = this.region(call.region);
    const rng = this.cloud.ctx.rng;
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
    const ec2 = this.cloud.ec2.region(call.region);
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
      return { LoadBalancers: [this.lbOut(call.region, existing, call.now)] };
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
    return { LoadBalancers: [this.lbOut(call.region, lb, call.now)] };
  }

  private createTg(input: Tree, call: Call): object {
    const r = this.region(call.region);
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
      this.cloud.ec2.getVpc(call.region, vpcId);
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
    if (path !== undefined && !hcIsHttp)
      throw v("A health check path is not supported for TCP health checks");
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
      return { TargetGroups: [this.tgOut(call.region, existing)] };
    }
    const full: TargetGroup = {
      ...tg,
      arn: `arn:aws:elasticloadbalancing:${call.region}:${ACCOUNT_ID}:targetgroup/${name}/${hexId(this.cloud.ctx.rng)}`,
      tags,
      targets: [],
      createdAt: call.now,
    };
    r.tgs[full.arn] = full;
    return { TargetGroups: [this.tgOut(call.region, full)] };
  }

  private checkListener(call: Call, lb: LoadBalancer, l: Listener, selfArn?: string): void {
    const r = this.region(call.region);
    const allowed = lb.type === "network" ? NLB_PROTOCOLS : ALB_PROTOCOLS;
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html
    if (!allowed.includes(l.protocol))
      throw v(`Listener protocol '${l.protocol}' must be one of '${allowed.join(", ")}'`);
    if (l.protocol === "HTTPS" || l.protocol === "TLS") {
      if (l.certificates.length !== 1)
        throw v(
          `A certificate must be specified for ${l.protocol} listeners (exactly one default certificate)`,
        );
      for (const c of l.certificates) {
        if (!/^arn:aws:(acm:[^:]+:\d{12}:certificate\/[\w-]+|iam::\d{12}:server-certificate\/.+)$/.test(c)) {
          throw new AwsError("CertificateNotFound", `Certificate '${c}' not found`);
        }
      }
    } else if (l.certificates.length) {
      throw v(`Certificates are not supported for ${l.protocol} listeners`);
    }
    if (l.actions.length === 0) throw v("A default action must be specified");
    for (const a of l.actions) {
      if (a.Type === "forward") {
        if (!a.TargetGroupArn) throw v("A target group ARN must be specified for a forward action");
        const tg = r.tgs[a.TargetGroupArn];
        if (!tg) throw tgNotFound();
        const compatible =
          lb.type === "network" ? NLB_PROTOCOLS.includes(tg.protocol) : ALB_PROTOCOLS.includes(tg.protocol);
        if (!compatible) {
          throw new AwsError(
            "IncompatibleProtocols",
            `The listener protocol '${l.protocol}' is incompatible with the target group protocol '${tg.protocol}'`,
          );
        }
        if (tg.vpcId !== lb.vpcId)
          throw v(`The target group '${tg.arn}' is not in the load balancer's VPC '${lb.vpcId}'`);
        // A target group can serve only one load balancer.
        const others = this.tgLoadBalancers(call.region, tg.arn).filter((x) => x !== lb.arn);
        if (others.length) {
          throw new AwsError(
            "TargetGroupAssociationLimit",
            `The following target groups cannot be associated with more than one load balancer: ${tg.arn}`,
          );
        }
      } else if (a.Type === "redirect" || a.Type === "fixed-response") {
        if (lb.type !== "application") throw v(`Action type '${a.Type}' must be one of 'forward'`);
        if (a.Type === "redirect" && !a.RedirectConfig?.StatusCode)
          throw v("A redirect action must have a RedirectConfig with a StatusCode");
        if (a.Type === "fixed-response" && !a.FixedResponseConfig?.StatusCode)
          throw v("A fixed-response action must have a FixedResponseConfig with a StatusCode");
      } else {
        throw v(`Action type '${a.Type}' is not supported by the emulator`);
      }
    }
    const clash = Object.values(r.listeners).find(
      (x) => x.lbArn === lb.arn && x.port === l.port && x.arn !== selfArn,
    );
    if (clash)
      throw new AwsError(
        "DuplicateListener",
        "A listener already exists on this port for this load balancer",
      );
  }

  private createListener(input: Tree, call: Call): object {
    const r = this.region(call.region);
    const lb = this.getLb(call.region, str(input, "LoadBalancerArn")!);
    const protocol = str(input, "Protocol") ?? (lb.type === "network" ? "TCP" : "HTTP");
    const port = int(input, "Port");
    if (port === undefined) throw v("A listener port must be specified");
    const certificates = objList(input, "Certificates.member").map((c) => str(c, "CertificateArn") ?? "");
    const secure = protocol === "HTTPS" || protocol === "TLS";
    const l: Listener = {
      arn: "",
      lbArn: lb.arn,
      port,
      protocol,
      certificates,
      sslPolicy: secure ? (str(input, "SslPolicy") ?? DEFAULT_SSL_POLICY) : undefined,
      alpn: strList(input, "AlpnPolicy.member"),
      actions: readActions(input, "DefaultActions.member"),
      tags: readTags(input),
      createdAt: call.now,
    };
    // Same settings on the same port → the existing listener (CreateListener is idempotent); otherwise DuplicateListener.
    const existing = Object.values(r.listeners).find((x) => x.lbArn === lb.arn && x.port === port);
    if (existing) {
      const key = (x: Listener) =>
        JSON.stringify([x.protocol, x.certificates, x.sslPolicy, x.actions, x.alpn]);
      if (key(existing) === key(l)) return { Listeners: [this.listenerOut(existing)] };
      throw new AwsError(
        "DuplicateListener",
        "A listener already exists on this port for this load balancer",
      );
    }
    this.checkListener(call, lb, l);
    if (Object.values(r.listeners).filter((x) => x.lbArn === lb.arn).length >= 50) {
      throw new AwsError(
        "TooManyListeners",
        "You've reached the limit on the number of listeners per load balancer",
      );
    }
    const lbId = lb.arn.split("/").slice(-3).join("/");
    l.arn = `arn:aws:elasticloadbalancing:${call.region}:${ACCOUNT_ID}:listener/${lbId}/${hexId(this.cloud.ctx.rng)}`;
    r.listeners[l.arn] = l;
    return { Listeners: [this.listenerOut(l)] };
  }
}

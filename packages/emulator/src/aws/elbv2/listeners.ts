/**
 * Elastic Load Balancing v2 listeners: create (with its checks), describe, modify, delete, attributes.
 */
import type { Call, QueryOp } from "../kernel/call.js";
import { ACCOUNT_ID } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { int, objList, str, strList, type Tree } from "../kernel/query.js";
import {
  ALB_PROTOCOLS,
  DEFAULT_SSL_POLICY,
  hexId,
  type Listener,
  type LoadBalancer,
  listenerNotFound,
  NLB_PROTOCOLS,
  readActions,
  readTags,
  tgNotFound,
  v,
} from "./model.js";
import { listenerOut } from "./output.js";
import type { Elbv2Service } from "./service.js";

export const listenerOps = (svc: Elbv2Service): Record<string, QueryOp> => ({
  CreateListener: (input, call) => createListener(svc, input, call),

  DescribeListeners: (input, call) => {
    const r = svc.region(call.region);
    const lbArn = str(input, "LoadBalancerArn");
    const arns = strList(input, "ListenerArns.member");
    if (!lbArn && !arns.length) throw v("You must specify either listener ARNs or a load balancer ARN");
    let ls = Object.values(r.listeners);
    if (lbArn) {
      svc.getLb(call.region, lbArn);
      ls = ls.filter((l) => l.lbArn === lbArn);
    }
    if (arns.length) {
      if (arns.some((a) => !r.listeners[a])) throw listenerNotFound();
      ls = ls.filter((l) => arns.includes(l.arn));
    }
    ls.sort((a, b) => a.port - b.port);
    const { page, marker } = svc.page(ls, input);
    return { Listeners: page.map((l) => listenerOut(l)), NextMarker: marker };
  },

  ModifyListener: (input, call) => {
    const r = svc.region(call.region);
    const l = r.listeners[str(input, "ListenerArn")!];
    if (!l) throw listenerNotFound();
    const lb = svc.getLb(call.region, l.lbArn);
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
    checkListener(svc, call, lb, next, l.arn);
    r.listeners[l.arn] = next;
    return { Listeners: [listenerOut(next)] };
  },

  DeleteListener: (input, call) => {
    const r = svc.region(call.region);
    const arn = str(input, "ListenerArn")!;
    if (!r.listeners[arn]) throw listenerNotFound();
    delete r.listeners[arn];
    return {};
  },

  DescribeListenerAttributes: (input, call) => {
    const l = svc.region(call.region).listeners[str(input, "ListenerArn")!];
    if (!l) throw listenerNotFound();
    return {
      Attributes: Object.entries(svc.listenerAttributes(l)).map(([Key, Value]) => ({ Key, Value })),
    };
  },

  ModifyListenerAttributes: (input, call) => {
    const l = svc.region(call.region).listeners[str(input, "ListenerArn")!];
    if (!l) throw listenerNotFound();
    const attrs = svc.listenerAttributes(l);
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
});

export function checkListener(
  svc: Elbv2Service,
  call: Call,
  lb: LoadBalancer,
  l: Listener,
  selfArn?: string,
): void {
  const r = svc.region(call.region);
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
      const others = svc.tgLoadBalancers(call.region, tg.arn).filter((x) => x !== lb.arn);
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
    throw new AwsError("DuplicateListener", "A listener already exists on this port for this load balancer");
}

export function createListener(svc: Elbv2Service, input: Tree, call: Call): object {
  const r = svc.region(call.region);
  const lb = svc.getLb(call.region, str(input, "LoadBalancerArn")!);
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
    const key = (x: Listener) => JSON.stringify([x.protocol, x.certificates, x.sslPolicy, x.actions, x.alpn]);
    if (key(existing) === key(l)) return { Listeners: [listenerOut(existing)] };
    throw new AwsError("DuplicateListener", "A listener already exists on this port for this load balancer");
  }
  checkListener(svc, call, lb, l);
  if (Object.values(r.listeners).filter((x) => x.lbArn === lb.arn).length >= 50) {
    throw new AwsError(
      "TooManyListeners",
      "You've reached the limit on the number of listeners per load balancer",
    );
  }
  const lbId = lb.arn.split("/").slice(-3).join("/");
  l.arn = `arn:aws:elasticloadbalancing:${call.region}:${ACCOUNT_ID}:listener/${lbId}/${hexId(svc.ctx.rng)}`;
  r.listeners[l.arn] = l;
  return { Listeners: [listenerOut(l)] };
}

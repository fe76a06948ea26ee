import type { Action, ElasticLoadBalancingV2 } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { LoadBalancerSpec, ResourceContext } from "@k3sinfra/core";
import { awsCall, collectPages } from "../call.js";
import { hasAwsCode } from "../errors.js";
import { DEFAULT_SSL_POLICY } from "../options.js";
import { tagList } from "../tags.js";

// The load balancer's listeners: TCP 80/443 on an NLB, HTTPS 443 and a redirect on 80 on an ALB
// (load-balancer.ts).
export const LB_NOT_FOUND = ["LoadBalancerNotFoundException", "LoadBalancerNotFound"];

export async function describeListeners(elb: ElasticLoadBalancingV2, lbArn: string, ctx: ResourceContext) {
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

export async function ensureListeners(
  elb: ElasticLoadBalancingV2,
  lbArn: string,
  spec: LoadBalancerSpec,
  groups: ReadonlyMap<number, string>,
  sslPolicy: string | undefined,
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
            SslPolicy: sslPolicy ?? DEFAULT_SSL_POLICY,
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
  const existing = await describeListeners(elb, lbArn, ctx);
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

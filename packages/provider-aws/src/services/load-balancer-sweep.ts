import type { ElasticLoadBalancingV2, LoadBalancer } from "@aws-sdk/client-elastic-load-balancing-v2";
import { type LoadBalancerState, type ResourceContext, type Tags, waitUntil } from "@k3sinfra/core";
import { awsCall, collectPages } from "../call.js";
import { describeElbTags } from "../elbv2-tags.js";
import { hasAwsCode } from "../errors.js";
import { assertOwned } from "../ownership.js";
import { hasTags } from "../tags.js";

const TG_NOT_FOUND = ["TargetGroupNotFoundException", "TargetGroupNotFound"];
const LB_WAIT_MS = 20 * 60_000;
/** The ports k3sinfra makes target groups for, named `<lb name>-<port>`. */
const PORTS = [80, 443];

/** Status of a state standing for target groups whose load balancer is gone. */
export const ORPHANED = "orphaned";

/**
 * Every load balancer carrying all the tags, and every tagged target group no load balancer uses any more
 * (left by an interrupted create or delete), the latter as a state whose id is the group's ARN. Listeners
 * live and die with their load balancer (DeleteLoadBalancer deletes them), so the LB covers them.
 * ELBv2 cannot filter by tag on the server: list, then DescribeTags, tolerating objects that vanish in
 * between (another cluster's destroy).
 */
export async function findLoadBalancers(
  elb: ElasticLoadBalancingV2,
  tags: Tags,
  ctx: ResourceContext,
  toState: (lb: LoadBalancer) => LoadBalancerState,
): Promise<LoadBalancerState[]> {
  const lbs = await collectPages(
    (Marker) => awsCall("ELBv2 DescribeLoadBalancers", ctx, (o) => elb.describeLoadBalancers({ Marker }, o)),
    (p) => p.LoadBalancers,
    (p) => p.NextMarker,
  );
  const lbTags = await describeElbTags(
    elb,
    lbs.map((lb) => lb.LoadBalancerArn!),
    ctx,
  );
  const found = lbs.filter((lb) => hasTags(lbTags.get(lb.LoadBalancerArn!) ?? {}, tags)).map(toState);
  const tgs = await collectPages(
    (Marker) => awsCall("ELBv2 DescribeTargetGroups", ctx, (o) => elb.describeTargetGroups({ Marker }, o)),
    (p) => p.TargetGroups,
    (p) => p.NextMarker,
  );
  const orphans = tgs.filter((tg) => (tg.LoadBalancerArns ?? []).length === 0);
  const tgTags = await describeElbTags(
    elb,
    orphans.map((tg) => tg.TargetGroupArn!),
    ctx,
  );
  const names = new Set(found.map((s) => s.name));
  for (const tg of orphans) {
    const t = tgTags.get(tg.TargetGroupArn!);
    const lbName = (tg.TargetGroupName ?? "").replace(/-(80|443)$/, "");
    // One state per LB name: its delete removes both `-80` and `-443`.
    if (!t || !hasTags(t, tags) || names.has(lbName)) continue;
    names.add(lbName);
    found.push({
      id: tg.TargetGroupArn!,
      name: lbName,
      mode: tg.Protocol === "HTTP" ? "l7" : "l4",
      status: ORPHANED,
    });
  }
  return found;
}

/** Refuses when the resource at this ARN carries another cluster's ownership tags; a vanished one passes. */
export async function assertElbOwned(
  elb: ElasticLoadBalancingV2,
  arn: string,
  ctx: ResourceContext,
  what: string,
): Promise<void> {
  const tags = await describeElbTags(elb, [arn], ctx);
  assertOwned(tags.get(arn) ?? {}, ctx, what);
}

/**
 * Deletes the `<lb name>-<port>` target groups once nothing uses them, after checking each one's owner:
 * they are found by name, and a name says nothing about whose they are.
 */
export async function deleteTargetGroups(
  elb: ElasticLoadBalancingV2,
  lbName: string,
  ctx: ResourceContext,
): Promise<void> {
  for (const port of PORTS) {
    const name = `${lbName}-${port}`;
    const tg = await targetGroupByName(elb, name, ctx);
    if (!tg?.TargetGroupArn) continue;
    const arn = tg.TargetGroupArn;
    await assertElbOwned(elb, arn, ctx, `target group ${name}`);
    // A target group stays "in use" for a moment after its listener or LB goes.
    await waitUntil(
      async () => {
        try {
          await awsCall(`ELBv2 DeleteTargetGroup (${name})`, ctx, (o) =>
            elb.deleteTargetGroup({ TargetGroupArn: arn }, o),
          );
          return { state: "SUCCESS", value: undefined };
        } catch (error) {
          if (hasAwsCode(error, ...TG_NOT_FOUND)) return { state: "SUCCESS", value: undefined };
          if (hasAwsCode(error, "ResourceInUseException", "ResourceInUse"))
            return { state: "RETRY", reason: "target group still in use" };
          throw error;
        }
      },
      {
        description: `target group ${name} to be deleted`,
        maxWaitMs: LB_WAIT_MS,
        signal: ctx.signal,
        ...ctx.poll,
      },
    );
  }
}

async function targetGroupByName(elb: ElasticLoadBalancingV2, name: string, ctx: ResourceContext) {
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

import type { ElasticLoadBalancingV2 } from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsCall, type CallContext } from "./call.js";
import { hasAwsCode } from "./errors.js";
import { tagRecord } from "./tags.js";

/**
 * DescribeTags fails the whole call when any ARN in it no longer exists; these are its "gone" codes.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTags.html
 */
const GONE = [
  "LoadBalancerNotFoundException",
  "LoadBalancerNotFound",
  "TargetGroupNotFoundException",
  "TargetGroupNotFound",
  "ListenerNotFoundException",
  "ListenerNotFound",
];
/** DescribeTags takes at most 20 ARNs per call (same page). */
const BATCH = 20;

/**
 * The tags of each ELBv2 resource (load balancer, target group, listener), by ARN. A resource deleted
 * between listing and describing (another cluster's destroy, say) is simply absent from the result: when a
 * batch fails with a not-found error, the ARNs the message names are dropped and the rest retried; when it
 * names none, the batch is described one ARN at a time, so only the vanished ones are left out.
 */
export async function describeElbTags(
  elb: ElasticLoadBalancingV2,
  arns: readonly string[],
  ctx: CallContext,
): Promise<Map<string, Record<string, string>>> {
  const tags = new Map<string, Record<string, string>>();
  const describe = async (batch: readonly string[]): Promise<void> => {
    if (batch.length === 0) return;
    try {
      const out = await awsCall("ELBv2 DescribeTags", ctx, (o) =>
        elb.describeTags({ ResourceArns: [...batch] }, o),
      );
      for (const d of out.TagDescriptions ?? []) tags.set(d.ResourceArn!, tagRecord(d.Tags));
    } catch (error) {
      if (!hasAwsCode(error, ...GONE)) throw error;
      if (batch.length === 1) return;
      const message = error instanceof Error ? error.message : "";
      const named = batch.filter((arn) => message.includes(arn));
      if (named.length > 0) return describe(batch.filter((arn) => !named.includes(arn)));
      for (const arn of batch) await describe([arn]);
    }
  };
  for (let i = 0; i < arns.length; i += BATCH) await describe(arns.slice(i, i + BATCH));
  return tags;
}

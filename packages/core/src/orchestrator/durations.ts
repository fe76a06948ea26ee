import type { ResourceKind } from "./desired.js";

/**
 * How long each kind typically takes on a real cloud, in seconds: only the weights the scheduler orders ready
 * work by (longest remaining path first), never a timeout. What matters is the order of magnitude —
 * datastore ≫ load balancer > DNS > nodes > the rest — which is the same on every cloud we know. The
 * emulator's lifecycles are these durations scaled (packages/emulator/src/aws: `RDS_DURATIONS`,
 * `ELB_DURATIONS`, `POWER_DURATIONS`, `ROUTE53_DURATIONS`).
 *
 * - datastore: RDS MySQL `creating` then `backing-up` before `available`, about 9 min for a small instance;
 *   `deleting` about 5 min (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.DBInstance.Status.html).
 * - load balancer: an NLB/ALB stays `provisioning` for 2–3 min
 *   (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerState.html);
 *   deleting it returns at once.
 * - DNS: a Route 53 change is `PENDING` until every name server has it, "generally within 60 seconds"
 *   (https://aws.amazon.com/route53/faqs/, https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html).
 * - nodes: an EC2 instance is `pending` about 30 s, and `shutting-down` as long
 *   (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html).
 * - network: a VPC, subnets and security groups are ready when the calls return (a few seconds of calls).
 * - targets: registration returns at once; health follows after 3 checks 10 s apart, which `up` waits for at
 *   the end, not here.
 */
export const EXPECTED_SECONDS: Readonly<Record<ResourceKind, { create: number; delete: number }>> = {
  datastore: { create: 540, delete: 300 },
  loadBalancer: { create: 150, delete: 5 },
  dns: { create: 60, delete: 5 },
  nodes: { create: 30, delete: 30 },
  network: { create: 10, delete: 10 },
  secrets: { create: 2, delete: 2 },
  targets: { create: 2, delete: 2 },
  bootstrap: { create: 2, delete: 1 },
};

/** The scheduler's weight for one task on a resource of this kind. */
export const expectedSeconds = (kind: ResourceKind, action: "create" | "delete"): number =>
  EXPECTED_SECONDS[kind][action];

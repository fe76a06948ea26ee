/**
 * How long each emulated AWS lifecycle takes, in seconds at time scale 1: the one table the services read
 * and that the bench's critical-path bound (bench/critical-path.ts) imports, so the two move together.
 */
export const AWS_DURATIONS = {
  /** EC2 instances (power.ts): pending → running, stopping → stopped, shutting-down → terminated. */
  ec2: { pending: 30, stopping: 30, shuttingDown: 30, terminatedVisible: 3600 },
  /** RDS DB instances: creating → backing-up → available; modifying; rebooting; deleting → gone. */
  rds: { creating: 420, backingUp: 120, modifying: 120, rebooting: 60, deleting: 300 },
  /** ELBv2 load balancers: provisioning → active. */
  elbv2: { provisioning: 150 },
  /** Route 53 changes: PENDING → INSYNC. */
  route53: { pending: 60 },
  /** A new IAM instance profile (or a role just added to one) before RunInstances accepts it. */
  iam: { propagation: 8 },
} as const;

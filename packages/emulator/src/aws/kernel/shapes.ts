/**
 * The EC2 resource shapes (persisted state) that other services read through the lookups: ELBv2 and RDS
 * (subnets, security groups, VPCs), the instance metadata service and the boot timeline (instances). They
 * live in the kernel so that no service imports another.
 */
import type { Tags } from "./common.js";
import type { PowerChange } from "./power.js";

/** Health checks of one instance fail from `failingSince` until `recoveredAt` (back door, elbv2/target-health.ts). */
export interface HealthOverride {
  failingSince: number;
  recoveredAt?: number;
}

export interface Vpc {
  id: string;
  cidr: string;
  isDefault: boolean;
  seeded: boolean;
  tags: Tags;
  createdAt: number;
  tenancy: string;
}

export interface Subnet {
  id: string;
  vpcId: string;
  cidr: string;
  az: string;
  azId: string;
  defaultForAz: boolean;
  mapPublicIp: boolean;
  seeded: boolean;
  tags: Tags;
  createdAt: number;
}

export interface SgRule {
  id: string;
  egress: boolean;
  protocol: string;
  from: number;
  to: number;
  cidr?: string;
  cidrV6?: string;
  groupId?: string;
  description?: string;
}

export interface SecurityGroup {
  id: string;
  name: string;
  description: string;
  vpcId: string;
  seeded: boolean;
  tags: Tags;
  rules: SgRule[];
  createdAt: number;
}

export interface Volume {
  id: string;
  deviceName: string;
  size: number;
  type: string;
  encrypted: boolean;
  deleteOnTermination: boolean;
  iops?: number;
  throughput?: number;
  kmsKeyId?: string;
  tags: Tags;
}

export interface Instance {
  id: string;
  reservationId: string;
  imageId: string;
  type: string;
  subnetId: string;
  vpcId: string;
  az: string;
  azId: string;
  privateIp: string;
  publicIp?: string;
  groupIds: string[];
  keyName?: string;
  clientToken: string;
  userData?: string;
  /** The instance profile's ARN and id (checked against IAM at launch, ec2/iam.ts). */
  iamInstanceProfile?: string;
  iamInstanceProfileId?: string;
  metadata: { httpTokens: string; httpEndpoint: string; hopLimit: number; tags: string; ipv6: string };
  volumes: Volume[];
  eniId: string;
  mac: string;
  launchIndex: number;
  ebsOptimized: boolean;
  monitoring: boolean;
  disableApiTermination: boolean;
  tags: Tags;
  launchedAt: number;
  terminatedAt?: number;
  /** The last StopInstances/StartInstances (ec2/instance-state.ts). */
  power?: PowerChange;
  /** Test back door: the instance's load balancer health checks fail (elbv2/target-health.ts). */
  health?: HealthOverride;
}

export interface Reservation {
  id: string;
  instanceIds: string[];
  clientToken: string;
  paramsHash: string;
}

export interface Ec2Region {
  vpcs: Record<string, Vpc>;
  subnets: Record<string, Subnet>;
  groups: Record<string, SecurityGroup>;
  instances: Record<string, Instance>;
  reservations: Record<string, Reservation>;
  /** ClientToken -> reservation id (RunInstances idempotency). */
  tokens: Record<string, string>;
}

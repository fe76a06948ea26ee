/**
 * Cross-service lookups: what one AWS service asks of another. Services depend on these interfaces only;
 * the AWS cloud (aws/index.ts) builds the object from the services at construction (dependency inversion),
 * so no service imports another and there is no import cycle.
 */
import type { CloudContext } from "../../cloud.js";
import type { BootStage } from "../../types.js";
import type { Call } from "./call.js";
import type { Ec2Region, Instance, Vpc } from "./shapes.js";

/** How a caller's request reached us (the signature check and authorization differ per protocol). */
export type Protocol = "json" | "query" | "ec2";

/** EC2, for the services that place things in its network or read its instances. */
export interface Ec2Lookup {
  /** A region's EC2 state, seeding the default VPC, subnets and security group on first use. */
  region(region: string): Ec2Region;
  /** Every region's EC2 state as stored (nothing seeded). */
  regions(): Record<string, Ec2Region>;
  /** `pending`, `running`, `stopping`, `stopped`, `shutting-down` or `terminated`, now. */
  instanceState(i: Instance, now: number): string;
  /** An instance DescribeInstances still lists, or undefined. */
  getInstance(region: string, id: string, now: number): Instance | undefined;
  /** A VPC by id (throws `InvalidVpcID.Malformed` / `.NotFound`). */
  getVpc(region: string, id: string): Vpc;
  defaultVpc(region: string): Vpc | undefined;
}

/** IAM: the account's key, instance profiles, and the role sessions of instances. */
export interface IamLookup {
  /** The account's key material (signs role sessions and IMDS tokens, seals SecureStrings), made on first use. */
  accountKey(): Buffer;
  /** The instance profile RunInstances names (by ARN or name), once IAM has propagated it; throws otherwise. */
  profileForLaunch(spec: { arn?: string; name?: string }, now: number): { arn: string; id: string };
  /** The name of the role the instance's profile carries now, if any. */
  instanceRoleName(i: Instance): string | undefined;
  /** The temporary credentials IMDS serves the instance for its role (undefined without one). */
  instanceCredentials(i: Instance, now: number): object | undefined;
  /** Authorize the instance's role session for `action` on `resources` (throws `AccessDenied…`). */
  authorizeInstance(i: Instance, protocol: Protocol, action: string, resources: string[]): void;
}

/** Whether RDS or ELBv2 still use a subnet or security group (EC2 refuses to delete those). */
export interface NetworkUseLookup {
  subnetInUse(region: string, subnetId: string, now: number): boolean;
  groupInUse(region: string, groupId: string, now: number): boolean;
}

/** ELBv2, for Route 53 alias targets. */
export interface LoadBalancerLookup {
  /** The CanonicalHostedZoneId of the load balancer with this DNS name; undefined when none has it. */
  canonicalZoneOf(dnsName: string): string | undefined;
}

/** The boot of k3sinfra servers (boot/), for target health and the kubeconfig write. */
export interface BootLookup {
  /** When the instance's K3s serves (its targets can turn healthy); -∞ for an instance that is no k3sinfra server. */
  servingFrom(i: Instance, now: number): number;
  /** Whether the instance's current bootstrap fails before reaching `stage`. */
  failedBefore(i: Instance, stage: BootStage, now: number): boolean;
}

/** The account's SSM parameter store, for the node's own kubeconfig write. */
export interface ParameterLookup {
  putParameter(input: Record<string, unknown>, call: Call): unknown;
}

export interface AwsLookups {
  readonly ec2: Ec2Lookup;
  readonly iam: IamLookup;
  readonly network: NetworkUseLookup;
  readonly loadBalancers: LoadBalancerLookup;
  readonly boot: BootLookup;
  readonly parameters: ParameterLookup;
}

/** A service's view of the cloud: context (clock, ids, options, log), its state slice, the other services. */
export interface ServiceKernel<S> {
  readonly ctx: CloudContext;
  /** The service's own part of the (watched, persisted) state; read it anew on each use, restore replaces it. */
  state(): S;
  readonly lookups: AwsLookups;
}

/** A state slice that may not exist yet: `peek` reads it (undefined while absent, so reads change nothing), `get` creates it. */
export interface LazySlice<S> {
  peek(): S | undefined;
  get(): S;
}

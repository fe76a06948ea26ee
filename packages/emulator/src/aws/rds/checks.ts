/**
 * Amazon RDS request checks against the state: a subnet group's subnets, security groups, storage, tags.
 */
import type { Call } from "../kernel/call.js";
import type { Tags } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import type { Subnet } from "../kernel/shapes.js";
import { groupNotFound, missing } from "./model.js";
import type { RdsService } from "./service.js";

/** Subnets of a DB subnet group: existing, one VPC, at least two AZs. */
export function checkGroupSubnets(svc: RdsService, region: string, ids: string[]): Subnet[] {
  if (ids.length === 0) throw missing("SubnetIds");
  const subnets = ids.map((id) => {
    const s = svc.lookups.ec2.region(region).subnets[id];
    if (!s) throw new AwsError("InvalidSubnet", `Some input subnets in :[${ids.join(", ")}] are invalid.`);
    return s;
  });
  if (new Set(subnets.map((s) => s.vpcId)).size > 1) {
    throw new AwsError("InvalidSubnet", "Subnets in a DB subnet group must all be in the same VPC.");
  }
  // A DB subnet group must cover at least two Availability Zones
  // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html#USER_VPC.Subnets).
  if (new Set(subnets.map((s) => s.az)).size < 2) {
    throw new AwsError(
      "DBSubnetGroupDoesNotCoverEnoughAZs",
      "The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ coverage: " +
        `${[...new Set(subnets.map((s) => s.az))].join(", ")}. Add subnets to cover at least 2 AZs.`,
    );
  }
  return subnets;
}

export function tagsOf(svc: RdsService, call: Call, arn: string): Tags {
  const m = /^arn:aws:rds:([^:]+):(\d{12}):(db|subgrp|pg):(.+)$/.exec(arn);
  // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html#USER_Tagging.ARN
  if (!m)
    throw new AwsError(
      "InvalidParameterValue",
      `The specified resource name does not match an RDS resource in this region.`,
    );
  if (m[1] !== call.region)
    throw new AwsError(
      "InvalidParameterValue",
      "The specified resource name does not match an RDS resource in this region.",
    );
  if (m[3] === "db") return svc.get(call.region, m[4]!, call.now).tags;
  if (m[3] === "pg") return svc.parameterGroups.tags(call.region, m[4]!);
  const g = svc.region(call.region).subnetGroups[m[4]!.toLowerCase()];
  if (!g) throw groupNotFound(m[4]!);
  return g.tags;
}

export function checkSecurityGroups(svc: RdsService, region: string, ids: string[], vpcId: string): void {
  const ec2 = svc.lookups.ec2.region(region);
  for (const id of ids) {
    const g = ec2.groups[id];
    if (!g)
      throw new AwsError("InvalidParameterValue", `Invalid security group , groupId= ${id}, groupName=.`);
    // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html
    if (g.vpcId !== vpcId)
      throw new AwsError(
        "InvalidParameterCombination",
        "The DB instance and EC2 security group are in different VPCs.",
      );
  }
}

export function checkStorage(type: string, size: number, iops?: number): void {
  // Storage ranges for MySQL (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html).
  const ranges: Record<string, [number, number]> = {
    gp2: [20, 65536],
    gp3: [20, 65536],
    io1: [100, 65536],
    io2: [100, 65536],
    standard: [5, 3072],
  };
  const range = ranges[type];
  if (!range) throw new AwsError("InvalidParameterValue", `Invalid storage type: ${type}`);
  if (size < range[0] || size > range[1]) {
    throw new AwsError(
      "InvalidParameterValue",
      `Invalid storage size for engine name mysql and storage type ${type}: ${size}`,
    );
  }
  if ((type === "io1" || type === "io2") && iops === undefined)
    throw new AwsError("InvalidParameterCombination", `You must specify Iops for storage type ${type}.`);
}

/**
 * The EC2 calls around an instance's identity and launch data: the instance profile a
 * launch names (it must exist in IAM and have propagated), DescribeInstanceAttribute (user data as given,
 * base64), AssociateIamInstanceProfile and DescribeIamInstanceProfileAssociations.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceAttribute.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateIamInstanceProfile.html
 */
import type { Call, QueryOp } from "../kernel/call.js";
import { stableHex } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import type { IamLookup } from "../kernel/lookups.js";
import { objList, str, strList, type Tree } from "../kernel/query.js";
import type { Instance } from "../kernel/shapes.js";
import type { Ec2Service } from "./service.js";

/** RunInstances' `IamInstanceProfile` (Name or Arn) → the profile's ARN and id, or undefined when not given. */
export function launchProfile(
  iam: IamLookup,
  input: Tree,
  now: number,
): { arn: string; id: string } | undefined {
  const arn = str(input, "IamInstanceProfile.Arn");
  const name = str(input, "IamInstanceProfile.Name");
  if (arn === undefined && name === undefined) return undefined;
  return iam.profileForLaunch({ arn, name }, now);
}

const associationId = (i: Instance): string =>
  `iip-assoc-${stableHex(`${i.id}|${i.iamInstanceProfileId}`, 17)}`;

function instance(ec2: Ec2Service, call: Call, id: string): Instance {
  const i = ec2.getInstance(call.region, id, call.now);
  if (!i) throw new AwsError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
  return i;
}

function associationOut(ec2: Ec2Service, i: Instance, now: number) {
  const state = ec2.instanceState(i, now);
  return {
    associationId: associationId(i),
    instanceId: i.id,
    iamInstanceProfile: { arn: i.iamInstanceProfile, id: i.iamInstanceProfileId },
    // An association settles with the instance; a terminated instance's is gone.
    state: state === "terminated" || state === "shutting-down" ? "disassociated" : "associated",
  };
}

export const instanceIamOps = (ec2: Ec2Service): Record<string, QueryOp> => ({
  DescribeInstanceAttribute: (input, call) => {
    const i = instance(ec2, call, str(input, "InstanceId")!);
    const attribute = str(input, "Attribute")!;
    const out: Record<string, unknown> = { instanceId: i.id };
    switch (attribute) {
      case "userData":
        // The user data as it was given (base64); empty when the instance has none.
        out.userData = i.userData ? { value: i.userData } : {};
        break;
      case "instanceType":
        out.instanceType = { value: i.type };
        break;
      case "disableApiTermination":
        out.disableApiTermination = { value: i.disableApiTermination };
        break;
      case "ebsOptimized":
        out.ebsOptimized = { value: i.ebsOptimized };
        break;
      case "groupSet":
        out.groupSet = i.groupIds.map((groupId) => ({ groupId }));
        break;
      default:
        throw new AwsError(
          "UnsupportedOperation",
          `The attribute ${attribute} is not supported by the k3sinfra emulator.`,
        );
    }
    return out;
  },

  AssociateIamInstanceProfile: (input, call) => {
    const i = instance(ec2, call, str(input, "InstanceId")!);
    const state = ec2.instanceState(i, call.now);
    if (state !== "running" && state !== "stopped")
      throw new AwsError(
        "IncorrectInstanceState",
        `The instance '${i.id}' is not in the 'running' or 'stopped' state.`,
      );
    if (i.iamInstanceProfile)
      throw new AwsError("IncorrectState", `There is an existing association for instance ${i.id}`);
    const p = ec2.lookups.iam.profileForLaunch(
      { arn: str(input, "IamInstanceProfile.Arn"), name: str(input, "IamInstanceProfile.Name") },
      call.now,
    );
    i.iamInstanceProfile = p.arn;
    i.iamInstanceProfileId = p.id;
    return { iamInstanceProfileAssociation: { ...associationOut(ec2, i, call.now), state: "associating" } };
  },

  DescribeIamInstanceProfileAssociations: (input, call) => {
    const ids = strList(input, "AssociationId");
    // Filters `instance-id` and `state` (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeIamInstanceProfileAssociations.html).
    const filters = objList(input, "Filter").map((f) => ({
      name: str(f, "Name") ?? "",
      values: strList(f, "Value"),
    }));
    for (const f of filters)
      if (f.name !== "instance-id" && f.name !== "state")
        throw new AwsError("InvalidParameterValue", `The filter '${f.name}' is invalid`);
    const associations = ec2
      .visibleInstances(call.region, call.now)
      .filter((i) => i.iamInstanceProfile && (!ids.length || ids.includes(associationId(i))))
      .map((i) => associationOut(ec2, i, call.now))
      .filter((a) => filters.every((f) => f.values.includes(f.name === "state" ? a.state : a.instanceId)));
    return { iamInstanceProfileAssociationSet: associations };
  },
});

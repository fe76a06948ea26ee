/**
 * EC2 security groups: create, describe, delete, describe rules (rules.ts authorizes and revokes them).
 */
import type { QueryOp } from "../kernel/call.js";
import { ACCOUNT_ID, newId } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { str, strList } from "../kernel/query.js";
import type { SecurityGroup } from "../kernel/shapes.js";
import { applyFilters, paginate, readFilters, readTagSpecs, tagItems, tagsFor } from "./filters.js";
import { groupOut, ruleOut } from "./output.js";
import { authorize, revoke } from "./rules.js";
import type { Ec2Service } from "./service.js";

export const securityGroupOps = (svc: Ec2Service): Record<string, QueryOp> => ({
  CreateSecurityGroup: (input, call) => {
    const name = str(input, "GroupName")!;
    const description = str(input, "GroupDescription")!;
    // Name/description: up to 255 chars, a-zA-Z0-9 spaces ._-:/()#,@[]+=&;{}!$*; name can't start with sg-
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
    const allowed = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;
    if (name.length > 255 || !allowed.test(name))
      throw new AwsError("InvalidParameterValue", `Invalid security group name '${name}'`);
    if (name.toLowerCase().startsWith("sg-"))
      throw new AwsError("InvalidParameterValue", "Group names may not be in the format sg-*");
    if (description.length > 255 || !allowed.test(description)) {
      throw new AwsError(
        "InvalidParameterValue",
        "Invalid security group description. Valid descriptions are strings less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*",
      );
    }
    const r = svc.region(call.region);
    const vpcIdIn = str(input, "VpcId");
    const vpc = vpcIdIn ? svc.getVpc(call.region, vpcIdIn) : svc.defaultVpc(call.region);
    if (!vpc) throw new AwsError("VPCIdNotSpecified", "No default VPC for this user");
    if (name === "default")
      throw new AwsError("InvalidGroup.Reserved", "The security group 'default' is reserved");
    // Names are unique per VPC, case-insensitively.
    if (
      Object.values(r.groups).some((g) => g.vpcId === vpc.id && g.name.toLowerCase() === name.toLowerCase())
    ) {
      throw new AwsError(
        "InvalidGroup.Duplicate",
        `The security group '${name}' already exists for VPC '${vpc.id}'`,
      );
    }
    const id = newId(svc.ctx.rng, "sg");
    const tags = tagsFor(readTagSpecs(input), "security-group");
    // A new group allows all outbound traffic (https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html).
    r.groups[id] = {
      id,
      name,
      description,
      vpcId: vpc.id,
      seeded: false,
      tags,
      createdAt: call.now,
      rules: [
        {
          id: newId(svc.ctx.rng, "sgr"),
          egress: true,
          protocol: "-1",
          from: -1,
          to: -1,
          cidr: "0.0.0.0/0",
        },
      ],
    };
    return {
      groupId: id,
      tagSet: tagItems(tags),
      securityGroupArn: `arn:aws:ec2:${call.region}:${ACCOUNT_ID}:security-group/${id}`,
    };
  },

  DescribeSecurityGroups: (input, call) => {
    const r = svc.region(call.region);
    const ids = strList(input, "GroupId");
    const names = strList(input, "GroupName");
    for (const id of ids) svc.getGroup(call.region, id);
    let groups = Object.values(r.groups);
    if (ids.length) groups = groups.filter((g) => ids.includes(g.id));
    if (names.length) {
      const def = svc.defaultVpc(call.region);
      for (const n of names) {
        if (!groups.some((g) => g.name === n && g.vpcId === def?.id)) {
          throw new AwsError(
            "InvalidGroup.NotFound",
            `The security group '${n}' does not exist in default VPC '${def?.id ?? "none"}'`,
          );
        }
      }
      groups = groups.filter((g) => names.includes(g.name) && g.vpcId === def?.id);
    }
    groups = applyFilters(
      groups,
      readFilters(input),
      {
        "group-name": (g) => g.name,
        "group-id": (g) => g.id,
        "vpc-id": (g) => g.vpcId,
        description: (g) => g.description,
        "owner-id": () => ACCOUNT_ID,
        "ip-permission.group-id": (g) => g.rules.filter((x) => !x.egress).map((x) => x.groupId),
        "ip-permission.cidr": (g) => g.rules.filter((x) => !x.egress).map((x) => x.cidr),
        "ip-permission.from-port": (g) => g.rules.filter((x) => !x.egress).map((x) => String(x.from)),
        "ip-permission.to-port": (g) => g.rules.filter((x) => !x.egress).map((x) => String(x.to)),
        "ip-permission.protocol": (g) => g.rules.filter((x) => !x.egress).map((x) => x.protocol),
      },
      (g) => g.tags,
    );
    const { page, nextToken } = paginate(groups, input);
    return { securityGroupInfo: page.map((g) => groupOut(call.region, g)), nextToken };
  },

  DescribeSecurityGroupRules: (input, call) => {
    const r = svc.region(call.region);
    const ids = strList(input, "SecurityGroupRuleId");
    let pairs = Object.values(r.groups).flatMap((g) => g.rules.map((rule) => ({ g, rule })));
    if (ids.length) pairs = pairs.filter((p) => ids.includes(p.rule.id));
    pairs = applyFilters(
      pairs,
      readFilters(input),
      { "group-id": (p) => p.g.id, "security-group-rule-id": (p) => p.rule.id },
      () => ({}),
    );
    const { page, nextToken } = paginate(pairs, input);
    return { securityGroupRuleSet: page.map((p) => ruleOut(p.g, p.rule)), nextToken };
  },

  AuthorizeSecurityGroupIngress: (input, call) => authorize(svc, input, call, false),
  AuthorizeSecurityGroupEgress: (input, call) => authorize(svc, input, call, true),
  RevokeSecurityGroupIngress: (input, call) => revoke(svc, input, call, false),
  RevokeSecurityGroupEgress: (input, call) => revoke(svc, input, call, true),

  DeleteSecurityGroup: (input, call) => {
    const r = svc.region(call.region);
    const id = str(input, "GroupId");
    const name = str(input, "GroupName");
    let g: SecurityGroup | undefined;
    if (id) g = svc.getGroup(call.region, id);
    else if (name) {
      const def = svc.defaultVpc(call.region);
      g = Object.values(r.groups).find((x) => x.name === name && x.vpcId === def?.id);
      if (!g)
        throw new AwsError(
          "InvalidGroup.NotFound",
          `The security group '${name}' does not exist in default VPC '${def?.id ?? "none"}'`,
        );
    } else
      throw new AwsError("MissingParameter", "The request must contain the parameter groupName or groupId");
    if (g.name === "default")
      throw new AwsError(
        "CannotDelete",
        `the specified group: "${g.id}" name: "default" cannot be deleted by a user`,
      );
    // A group still attached to a network interface (instance, load balancer, DB instance) or referenced by
    // another group's rule can't be deleted (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html).
    const gid = g.id;
    const usedByInstance = svc.liveInstances(call.region, call.now).some((i) => i.groupIds.includes(gid));
    const referenced = Object.values(r.groups).some(
      (o) => o.id !== gid && o.rules.some((rule) => rule.groupId === gid),
    );
    if (usedByInstance || referenced || svc.lookups.network.groupInUse(call.region, gid, call.now)) {
      throw new AwsError("DependencyViolation", `resource ${gid} has a dependent object`);
    }
    delete r.groups[gid];
    return { return: true, groupId: gid };
  },
});

/**
 * EC2 security group rules: reading IpPermissions, AuthorizeSecurityGroupIngress/Egress and
 * RevokeSecurityGroupIngress/Egress.
 */
import type { Call } from "../kernel/call.js";
import { newId, parseCidr } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { int, objList, str, strList, type Tree } from "../kernel/query.js";
import type { SecurityGroup, SgRule } from "../kernel/shapes.js";
import { normProtocol } from "./filters.js";
import { ruleOut } from "./output.js";
import type { Ec2Service } from "./service.js";

export function readPermissions(input: Tree, egress: boolean): Omit<SgRule, "id">[] {
  const out: Omit<SgRule, "id">[] = [];
  const perms = objList(input, "IpPermissions");
  // Legacy top-level form (CidrIp/IpProtocol/FromPort/ToPort or SourceSecurityGroupName).
  if (perms.length === 0 && str(input, "IpProtocol")) {
    const p = normProtocol(str(input, "IpProtocol")!);
    const from = p === "-1" ? -1 : (int(input, "FromPort") ?? -1);
    const to = p === "-1" ? -1 : (int(input, "ToPort") ?? -1);
    if (str(input, "CidrIp")) out.push({ egress, protocol: p, from, to, cidr: str(input, "CidrIp")! });
    return out;
  }
  for (const perm of perms) {
    const proto = normProtocol(str(perm, "IpProtocol") ?? "");
    if (!["tcp", "udp", "icmp", "icmpv6", "-1"].includes(proto) && !/^\d+$/.test(proto)) {
      throw new AwsError(
        "InvalidParameterValue",
        `Invalid value '${str(perm, "IpProtocol")}' for IP protocol. Unknown protocol.`,
      );
    }
    let from = int(perm, "FromPort");
    let to = int(perm, "ToPort");
    if (proto === "-1") {
      from = -1;
      to = -1;
    } else if (proto === "tcp" || proto === "udp") {
      // Port ranges for TCP/UDP: 0-65535, from <= to (https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html).
      if (from === undefined || to === undefined)
        throw new AwsError(
          "InvalidParameterValue",
          `Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.`,
        );
      if (from < 0 || to > 65535 || from > to)
        throw new AwsError("InvalidParameterValue", `Invalid TCP/UDP port range ${from}-${to}`);
    }
    const base = { egress, protocol: proto, from: from ?? -1, to: to ?? -1 };
    const sources = [
      ...objList(perm, "IpRanges").map((x) => ({
        ...base,
        cidr: str(x, "CidrIp"),
        description: str(x, "Description"),
      })),
      ...objList(perm, "Ipv6Ranges").map((x) => ({
        ...base,
        cidrV6: str(x, "CidrIpv6"),
        description: str(x, "Description"),
      })),
      ...objList(perm, "Groups").map((x) => ({
        ...base,
        groupId: str(x, "GroupId"),
        groupName: str(x, "GroupName"),
        description: str(x, "Description"),
      })),
    ];
    if (sources.length === 0) {
      throw new AwsError(
        "InvalidParameterValue",
        "The request must specify a source or destination: a CIDR range, a prefix list or a security group",
      );
    }
    for (const s of sources) {
      // Rule descriptions: up to 255 characters from a-zA-Z0-9, space and ._-:/()#,@[]+=&;{}!$*
      // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html).
      if (s.description !== undefined && !/^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{0,255}$/.test(s.description))
        throw new AwsError(
          "InvalidParameterValue",
          `Invalid rule description. Valid descriptions are strings less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*`,
        );
      if ("cidr" in s && s.cidr !== undefined && !parseCidr(s.cidr))
        throw new AwsError("InvalidParameterValue", `CIDR block ${s.cidr} is malformed`);
      const { groupName: _n, ...rule } = s as typeof s & { groupName?: string };
      out.push(rule);
    }
  }
  return out;
}

export function ruleKey(r: Omit<SgRule, "id">): string {
  return `${r.egress}|${r.protocol}|${r.from}|${r.to}|${r.cidr ?? ""}|${r.cidrV6 ?? ""}|${r.groupId ?? ""}`;
}

export function describeRule(r: Omit<SgRule, "id">): string {
  const peer = r.cidr ?? r.cidrV6 ?? r.groupId ?? "";
  const proto = r.protocol === "-1" ? "ALL" : r.protocol.toUpperCase();
  return `peer: ${peer}, ${proto}, from port: ${r.from}, to port: ${r.to}, ALLOW`;
}

export function resolveRuleGroup(svc: Ec2Service, call: Call, input: Tree): SecurityGroup {
  const id = str(input, "GroupId");
  if (id) return svc.getGroup(call.region, id);
  const name = str(input, "GroupName");
  const def = svc.defaultVpc(call.region);
  const g = name
    ? Object.values(svc.region(call.region).groups).find((x) => x.name === name && x.vpcId === def?.id)
    : undefined;
  if (!g)
    throw new AwsError(
      name ? "InvalidGroup.NotFound" : "MissingParameter",
      name
        ? `The security group '${name}' does not exist in default VPC '${def?.id}'`
        : "The request must contain the parameter groupId",
    );
  return g;
}

export function authorize(svc: Ec2Service, input: Tree, call: Call, egress: boolean): object {
  const g = resolveRuleGroup(svc, call, input);
  const rules = readPermissions(input, egress);
  for (const rule of rules) {
    if (rule.groupId) {
      const peer = svc.getGroup(call.region, rule.groupId);
      if (peer.vpcId !== g.vpcId)
        throw new AwsError(
          "InvalidGroup.NotFound",
          `You have specified two resources that belong to different networks.`,
        );
    }
  }
  // A duplicate rule fails the whole request (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
  const existing = new Set(g.rules.map((r) => ruleKey(r)));
  const seen = new Set<string>();
  for (const rule of rules) {
    const k = ruleKey(rule);
    if (existing.has(k) || seen.has(k)) {
      throw new AwsError(
        "InvalidPermission.Duplicate",
        `the specified rule "${describeRule(rule)}" already exists`,
      );
    }
    seen.add(k);
  }
  // Quota: 60 inbound and 60 outbound rules per group (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html).
  if (g.rules.filter((r) => r.egress === egress).length + rules.length > 60) {
    throw new AwsError(
      "RulesPerSecurityGroupLimitExceeded",
      "The maximum number of rules per security group has been reached.",
    );
  }
  const added = rules.map((r) => ({ ...r, id: newId(svc.ctx.rng, "sgr") }));
  g.rules.push(...added);
  return { return: true, securityGroupRuleSet: added.map((r) => ruleOut(g, r)) };
}

export function revoke(svc: Ec2Service, input: Tree, call: Call, egress: boolean): object {
  const g = resolveRuleGroup(svc, call, input);
  const ruleIds = strList(input, "SecurityGroupRuleId");
  if (ruleIds.length) {
    for (const id of ruleIds) {
      if (!g.rules.some((r) => r.id === id && r.egress === egress)) {
        throw new AwsError(
          "InvalidSecurityGroupRuleId.NotFound",
          `The security group rule ID '${id}' does not exist`,
        );
      }
    }
    g.rules = g.rules.filter((r) => !ruleIds.includes(r.id));
    return { return: true };
  }
  const rules = readPermissions(input, egress);
  const keys = new Set(rules.map((r) => ruleKey(r)));
  const unknown = rules.filter((r) => !g.rules.some((x) => ruleKey(x) === ruleKey(r)));
  if (unknown.length === rules.length) {
    throw new AwsError(
      "InvalidPermission.NotFound",
      "The specified rule does not exist in this security group.",
    );
  }
  g.rules = g.rules.filter((r) => !keys.has(ruleKey(r)));
  return {
    return: true,
    unknownIpPermissionSet: unknown.map((r) => ({
      ipProtocol: r.protocol,
      fromPort: r.from,
      toPort: r.to,
      ipRanges: r.cidr ? [{ cidrIp: r.cidr }] : [],
      groups: r.groupId ? [{ groupId: r.groupId }] : [],
    })),
  };
}

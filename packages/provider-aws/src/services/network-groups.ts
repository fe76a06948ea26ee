import type { EC2, IpPermission, SecurityGroup } from "@aws-sdk/client-ec2";
import { type FirewallGroup, type FirewallRule, ProviderError, type ResourceContext } from "@k3sinfra/core";
import { awsCall } from "../call.js";
import { hasAwsCode } from "../errors.js";
import { hasTags, tagList, tagRecord } from "../tags.js";

// The three security groups of a network: creating or adopting each, and making its ingress exactly the
// spec's rules (network.ts).
export const GROUPS: readonly FirewallGroup[] = ["nodes", "loadBalancer", "datastore"];
const SUFFIX: Readonly<Record<FirewallGroup, string>> = {
  nodes: "nodes",
  loadBalancer: "lb",
  datastore: "db",
};
/** Tag naming which of the three groups a security group is. */
export const TAG_GROUP = "k3sinfra:group";
/** Tag recording the subnets by zone (`us-east-1a=subnet-1,…`), so `findByTags` can rebuild the state. */
export const TAG_SUBNETS = "k3sinfra:subnets";

/**
 * One ingress permission reduced to a single source, the unit we compare, add and remove. It keeps the whole
 * port range and every kind of source AWS reports (IPv4, IPv6, prefix list, group): a rule added by hand
 * (say tcp 0-65535 from ::/0) must be recognised to be revoked, and revoking only matches a rule given with
 * exactly its protocol, ports and source.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RevokeSecurityGroupIngress.html
 */
interface Atom {
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly groupId?: string | undefined;
  readonly cidr?: string | undefined;
  readonly cidrV6?: string | undefined;
  readonly prefixListId?: string | undefined;
  readonly description?: string | undefined;
}
const atomKey = (a: Atom) =>
  `${a.protocol}/${a.fromPort}-${a.toPort}/${a.groupId ?? a.cidr ?? a.cidrV6 ?? a.prefixListId}`;

/**
 * A rule description as EC2 takes it: at most 255 characters from a-zA-Z0-9, space and ._-:/()#,@[]+=&;{}!$*
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html); anything else becomes a space.
 */
const ruleDescription = (text: string | undefined): string | undefined =>
  text?.replace(/[^a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]/g, " ").slice(0, 255);

export const toPermission = (a: Atom): IpPermission => {
  const source = { Description: ruleDescription(a.description) };
  return {
    IpProtocol: a.protocol,
    // "-1" (all traffic) carries no ports.
    ...(a.protocol === "-1" ? {} : { FromPort: a.fromPort, ToPort: a.toPort }),
    ...(a.groupId !== undefined && { UserIdGroupPairs: [{ GroupId: a.groupId, ...source }] }),
    ...(a.cidr !== undefined && { IpRanges: [{ CidrIp: a.cidr, ...source }] }),
    ...(a.cidrV6 !== undefined && { Ipv6Ranges: [{ CidrIpv6: a.cidrV6, ...source }] }),
    ...(a.prefixListId !== undefined && { PrefixListIds: [{ PrefixListId: a.prefixListId, ...source }] }),
  };
};

export const fromPermissions = (perms: readonly IpPermission[] | undefined): Atom[] =>
  (perms ?? []).flatMap((p) => {
    const base = { protocol: p.IpProtocol ?? "-1", fromPort: p.FromPort ?? -1, toPort: p.ToPort ?? -1 };
    return [
      ...(p.UserIdGroupPairs ?? []).map((g) => ({ ...base, groupId: g.GroupId })),
      ...(p.IpRanges ?? []).map((r) => ({ ...base, cidr: r.CidrIp })),
      ...(p.Ipv6Ranges ?? []).map((r) => ({ ...base, cidrV6: r.CidrIpv6 })),
      ...(p.PrefixListIds ?? []).map((r) => ({ ...base, prefixListId: r.PrefixListId })),
    ];
  });

export async function describeGroups(
  ec2: EC2,
  ids: readonly string[],
  ctx: ResourceContext,
): Promise<SecurityGroup[]> {
  if (ids.length === 0) return [];
  // A filter (unlike GroupIds) lists what exists instead of failing on the first missing id.
  const out = await awsCall("EC2 DescribeSecurityGroups", ctx, (o) =>
    ec2.describeSecurityGroups({ Filters: [{ Name: "group-id", Values: [...ids] }] }, o),
  );
  return out.SecurityGroups ?? [];
}

export async function ensureGroup(
  ec2: EC2,
  vpcId: string,
  group: FirewallGroup,
  subnetTag: string,
  ctx: ResourceContext,
): Promise<string> {
  const name = `${ctx.name}-${SUFFIX[group]}`;
  const find = async () => {
    const out = await awsCall("EC2 DescribeSecurityGroups", ctx, (o) =>
      ec2.describeSecurityGroups(
        {
          Filters: [
            { Name: "vpc-id", Values: [vpcId] },
            { Name: "group-name", Values: [name] },
          ],
        },
        o,
      ),
    );
    return out.SecurityGroups?.[0];
  };
  const tags = tagList(ctx.tags, { Name: name, [TAG_GROUP]: group, [TAG_SUBNETS]: subnetTag });
  const existing = await find();
  if (existing?.GroupId) {
    if (!hasTags(tagRecord(existing.Tags), ctx.tags))
      throw new ProviderError(
        `Security group ${name} (${existing.GroupId}) exists in ${vpcId} but is not tagged as this cluster's; rename the cluster or remove the group.`,
      );
    await awsCall(`EC2 CreateTags (${name})`, ctx, (o) =>
      ec2.createTags({ Resources: [existing.GroupId!], Tags: tags }, o),
    );
    return existing.GroupId;
  }
  try {
    ctx.report(`creating security group ${name}`);
    const out = await awsCall(`EC2 CreateSecurityGroup (${name})`, ctx, (o) =>
      ec2.createSecurityGroup(
        {
          GroupName: name,
          Description: `k3sinfra ${ctx.cluster}: ${group}`,
          VpcId: vpcId,
          TagSpecifications: [{ ResourceType: "security-group", Tags: tags }],
        },
        o,
      ),
    );
    return out.GroupId!;
  } catch (error) {
    // Another run created it between our lookup and our create: adopt it.
    if (!hasAwsCode(error, "InvalidGroup.Duplicate")) throw error;
    const raced = await find();
    if (!raced?.GroupId) throw error;
    return raced.GroupId;
  }
}

/** Makes each group's ingress exactly the rules (adds what is missing, revokes the rest); returns the count. */
export async function syncRules(
  ec2: EC2,
  groups: Readonly<Record<FirewallGroup, string>>,
  rules: readonly FirewallRule[],
  ctx: ResourceContext,
): Promise<number> {
  const current = await describeGroups(ec2, Object.values(groups), ctx);
  let count = 0;
  for (const group of GROUPS) {
    const groupId = groups[group];
    const wanted: Atom[] = rules
      .filter((r) => r.group === group)
      .flatMap((r): Atom[] =>
        "group" in r.from
          ? [
              {
                protocol: r.protocol,
                fromPort: r.port,
                toPort: r.port,
                groupId: groups[r.from.group],
                description: r.description,
              },
            ]
          : r.from.cidrs.map((cidr) => ({
              protocol: r.protocol,
              fromPort: r.port,
              toPort: r.port,
              cidr,
              description: r.description,
            })),
      );
    const unique = [...new Map(wanted.map((a) => [atomKey(a), a])).values()];
    const existing = fromPermissions(current.find((sg) => sg.GroupId === groupId)?.IpPermissions);
    const have = new Set(existing.map(atomKey));
    const want = new Set(unique.map(atomKey));
    for (const atom of unique.filter((a) => !have.has(atomKey(a)))) {
      try {
        // One permission per call: a duplicate fails the whole call, and a duplicate is success here.
        await awsCall(
          `EC2 AuthorizeSecurityGroupIngress (${groupId} ${atom.fromPort}/${atom.protocol})`,
          ctx,
          (o) =>
            ec2.authorizeSecurityGroupIngress({ GroupId: groupId, IpPermissions: [toPermission(atom)] }, o),
        );
      } catch (error) {
        if (!hasAwsCode(error, "InvalidPermission.Duplicate")) throw error;
      }
    }
    const extra = existing.filter((a) => !want.has(atomKey(a)));
    if (extra.length > 0) {
      ctx.report(`revoking ${extra.length} rule(s) not in the spec from ${groupId}`);
      try {
        await awsCall(`EC2 RevokeSecurityGroupIngress (${groupId})`, ctx, (o) =>
          ec2.revokeSecurityGroupIngress({ GroupId: groupId, IpPermissions: extra.map(toPermission) }, o),
        );
      } catch (error) {
        if (!hasAwsCode(error, "InvalidPermission.NotFound")) throw error;
      }
    }
    count += unique.length;
  }
  return count;
}

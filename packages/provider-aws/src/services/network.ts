import type { EC2, IpPermission, SecurityGroup, Subnet } from "@aws-sdk/client-ec2";
import {
  type FirewallGroup,
  type FirewallRule,
  InvalidConfigError,
  type NetworkService,
  type NetworkSpec,
  type NetworkState,
  ProviderError,
  type ResourceContext,
  type Tags,
  waitUntil,
} from "@k3sinfra/core";
import { awsCall, collectPages } from "../call.js";
import type { AwsClients } from "../clients.js";
import { hasAwsCode } from "../errors.js";
import type { AwsOptions } from "../options.js";
import { assertOwned } from "../ownership.js";
import { hasTags, tagFilters, tagList, tagRecord } from "../tags.js";
import { AwsNodeIdentity, identityName } from "./identity.js";
import { rulesDigest } from "./rules-digest.js";

const GROUPS: readonly FirewallGroup[] = ["nodes", "loadBalancer", "datastore"];
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

const toPermission = (a: Atom): IpPermission => {
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

const fromPermissions = (perms: readonly IpPermission[] | undefined): Atom[] =>
  (perms ?? []).flatMap((p) => {
    const base = { protocol: p.IpProtocol ?? "-1", fromPort: p.FromPort ?? -1, toPort: p.ToPort ?? -1 };
    return [
      ...(p.UserIdGroupPairs ?? []).map((g) => ({ ...base, groupId: g.GroupId })),
      ...(p.IpRanges ?? []).map((r) => ({ ...base, cidr: r.CidrIp })),
      ...(p.Ipv6Ranges ?? []).map((r) => ({ ...base, cidrV6: r.CidrIpv6 })),
      ...(p.PrefixListIds ?? []).map((r) => ({ ...base, prefixListId: r.PrefixListId })),
    ];
  });

// Core's port matrix (network-rules.ts, anchors-k3s.md §3.2): VXLAN, kubelet and MySQL are never reachable
// from address ranges. Checked here too, because a security group is where the door actually opens.
const NEVER_FROM_CIDRS: readonly { protocol: string; port: number }[] = [
  { protocol: "udp", port: 8472 },
  { protocol: "tcp", port: 10250 },
  { protocol: "tcp", port: 3306 },
];

/** Throws when a rule would open a port that must stay internal to address ranges. */
export function assertSafeRules(rules: readonly FirewallRule[]): void {
  for (const rule of rules) {
    if (!("cidrs" in rule.from)) continue;
    const forbidden =
      rule.group === "datastore" ||
      NEVER_FROM_CIDRS.some((n) => n.protocol === rule.protocol && n.port === rule.port);
    if (forbidden)
      throw new ProviderError(
        `Refusing to open ${rule.port}/${rule.protocol} on the ${rule.group} group to address ranges (${rule.from.cidrs.join(", ")}): it must only be reachable from the cluster's own groups.`,
      );
  }
}

/** VPC, one subnet per zone, and three security groups whose ingress is exactly the spec's rules. */
export class AwsNetworkService implements NetworkService {
  readonly updatable = ["rules", "zones", "subnetIds"] as const satisfies readonly (keyof NetworkSpec)[];
  readonly #clients: AwsClients;
  readonly #options: AwsOptions;
  readonly #identity: AwsNodeIdentity;

  constructor(clients: AwsClients, options: AwsOptions) {
    this.#clients = clients;
    this.#options = options;
    this.#identity = new AwsNodeIdentity(clients);
  }

  native(): Promise<EC2> {
    return this.#clients.ec2();
  }

  create(spec: NetworkSpec, ctx: ResourceContext): Promise<NetworkState> {
    return this.#converge(spec, ctx, undefined);
  }

  async #converge(
    spec: NetworkSpec,
    ctx: ResourceContext,
    expectedVpc: string | undefined,
  ): Promise<NetworkState> {
    assertSafeRules(spec.rules);
    const ec2 = await this.#clients.ec2();
    const explicit = spec.subnetIds ?? this.#options.subnetIds;
    const vpcId = await this.#vpc(ec2, spec.networkId ?? this.#options.vpcId, explicit, ctx);
    if (expectedVpc && vpcId !== expectedVpc)
      throw new ProviderError(
        `The network would move from ${expectedVpc} to ${vpcId}; that replaces the cluster.`,
      );
    const subnets = await this.#subnets(ec2, vpcId, spec.zones, explicit, ctx);
    const subnetTag = subnets.map((s) => `${s.zone}=${s.id}`).join(",");
    const groups = {} as Record<FirewallGroup, string>;
    for (const group of GROUPS) {
      groups[group] = await this.#ensureGroup(ec2, vpcId, group, subnetTag, ctx);
    }
    const ruleCount = await this.#syncRules(ec2, groups, spec.rules, ctx);
    // Digest what is in place after the sync, as `read` will, so an untouched network reads equal.
    const digest = rulesDigest(groups, await this.#describeGroups(ec2, Object.values(groups), ctx));
    // The nodes' IAM identity: what lets them read their own secrets, and nothing else.
    const nodeIdentity = await this.#identity.ensure(ctx);
    return {
      id: groups.nodes,
      networkId: vpcId,
      subnets,
      groups,
      ruleCount,
      rulesDigest: digest,
      nodeIdentity,
    };
  }

  async read(state: NetworkState, ctx: ResourceContext): Promise<NetworkState | undefined> {
    const ec2 = await this.#clients.ec2();
    const found = await this.#describeGroups(ec2, Object.values(state.groups).filter(Boolean), ctx);
    // A missing group means the network is incomplete: report it gone, and `create` adopts the rest.
    if (GROUPS.some((g) => !found.some((sg) => sg.GroupId === state.groups[g]))) return undefined;
    const ruleCount = found.reduce((n, sg) => n + fromPermissions(sg.IpPermissions).length, 0);
    const identity =
      state.nodeIdentity === undefined
        ? {}
        : { nodeIdentity: (await this.#identity.read(state.nodeIdentity, ctx)) ? state.nodeIdentity : "" };
    return { ...state, ruleCount, rulesDigest: rulesDigest(state.groups, found), ...identity };
  }

  /**
   * Rules, zones and subnets change in place: the same path as `create`, which looks the subnets up again,
   * re-tags the groups and syncs the rules. Another VPC means new groups, so that replaces.
   */
  update(state: NetworkState, spec: NetworkSpec, ctx: ResourceContext): Promise<NetworkState> {
    return this.#converge(spec, ctx, state.networkId);
  }

  async delete(state: NetworkState, ctx: ResourceContext): Promise<void> {
    const ec2 = await this.#clients.ec2();
    const ids = Object.values(state.groups).filter(Boolean);
    const found = await this.#describeGroups(ec2, ids, ctx);
    for (const sg of found) assertOwned(tagRecord(sg.Tags), ctx, `security group ${sg.GroupId}`);
    // Rules that reference another of our groups keep that group alive: revoke them all first.
    for (const sg of found) {
      const refs = fromPermissions(sg.IpPermissions).filter((a) => a.groupId && ids.includes(a.groupId));
      if (refs.length === 0) continue;
      try {
        await awsCall(`EC2 RevokeSecurityGroupIngress (${sg.GroupName})`, ctx, (o) =>
          ec2.revokeSecurityGroupIngress({ GroupId: sg.GroupId, IpPermissions: refs.map(toPermission) }, o),
        );
      } catch (error) {
        if (!hasAwsCode(error, "InvalidPermission.NotFound", "InvalidGroup.NotFound")) throw error;
      }
    }
    // Instances, load balancers and RDS leave network interfaces behind for a while after they are
    // deleted; the group cannot go until they drain (DependencyViolation), so retry within a bound.
    for (const group of ["datastore", "loadBalancer", "nodes"] as const) {
      const id = state.groups[group];
      if (!id || !found.some((sg) => sg.GroupId === id)) continue;
      await waitUntil(
        async () => {
          try {
            await awsCall(`EC2 DeleteSecurityGroup (${id})`, ctx, (o) =>
              ec2.deleteSecurityGroup({ GroupId: id }, o),
            );
            return { state: "SUCCESS", value: undefined };
          } catch (error) {
            if (hasAwsCode(error, "InvalidGroup.NotFound")) return { state: "SUCCESS", value: undefined };
            if (hasAwsCode(error, "DependencyViolation"))
              return { state: "RETRY", reason: `security group ${id} is still in use` };
            throw error;
          }
        },
        {
          description: `security group ${id} to be deleted`,
          maxWaitMs: 20 * 60_000,
          signal: ctx.signal,
          ...ctx.poll,
          onRetry: (_n, reason) => ctx.report(`waiting: ${reason}`),
        },
      );
    }
    // The identity goes last: nodes (deleted before the network) no longer use it.
    await this.#identity.delete(state.nodeIdentity || identityName(ctx.cluster), ctx);
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<NetworkState[]> {
    const ec2 = await this.#clients.ec2();
    const groups = await collectPages(
      (token) =>
        awsCall("EC2 DescribeSecurityGroups", ctx, (o) =>
          ec2.describeSecurityGroups(
            { Filters: [...tagFilters(tags), { Name: "tag-key", Values: [TAG_GROUP] }], NextToken: token },
            o,
          ),
        ),
      (p) => p.SecurityGroups,
      (p) => p.NextToken,
    );
    // One network per VPC and name prefix (`<name>-nodes`, `<name>-lb`, `<name>-db`).
    const byNetwork = new Map<string, SecurityGroup[]>();
    for (const sg of groups) {
      const t = tagRecord(sg.Tags);
      if (!hasTags(t, tags)) continue;
      const prefix = (sg.GroupName ?? "").replace(/-(nodes|lb|db)$/, "");
      const key = `${sg.VpcId}/${prefix}`;
      byNetwork.set(key, [...(byNetwork.get(key) ?? []), sg]);
    }
    const networks: NetworkState[] = [...byNetwork.values()].map((sgs) => {
      const ids = Object.fromEntries(
        GROUPS.map((g) => [g, sgs.find((sg) => tagRecord(sg.Tags)[TAG_GROUP] === g)?.GroupId ?? ""]),
      ) as Record<FirewallGroup, string>;
      const subnetTag = sgs.map((sg) => tagRecord(sg.Tags)[TAG_SUBNETS]).find(Boolean) ?? "";
      const subnets = subnetTag
        .split(",")
        .filter(Boolean)
        .map((pair) => {
          const [zone = "", id = ""] = pair.split("=");
          return { zone, id };
        });
      return {
        // Groups missing after a partial delete are "" so the destroy sweep can still remove the rest.
        id: ids.nodes || sgs[0]?.GroupId || "",
        networkId: sgs[0]?.VpcId ?? "",
        subnets,
        groups: ids,
        ruleCount: sgs.reduce((n, sg) => n + fromPermissions(sg.IpPermissions).length, 0),
        rulesDigest: rulesDigest(ids, sgs),
      };
    });
    // An identity left without any group (a crash between the two) is still ours to sweep.
    const identities = await this.#identity.findByTags(tags, ctx);
    const leftover = identities.filter(() => networks.length === 0);
    return [
      ...networks.map((n, i) => (i === 0 && identities[0] ? { ...n, nodeIdentity: identities[0] } : n)),
      ...leftover.map((name) => ({
        id: `iam:${name}`,
        networkId: "",
        subnets: [],
        groups: { nodes: "", loadBalancer: "", datastore: "" },
        ruleCount: 0,
        nodeIdentity: name,
      })),
    ];
  }

  async #vpc(
    ec2: EC2,
    given: string | undefined,
    explicitSubnets: Readonly<Record<string, string>> | undefined,
    ctx: ResourceContext,
  ): Promise<string> {
    if (given) return given;
    const first = explicitSubnets && Object.values(explicitSubnets)[0];
    if (first) {
      const out = await awsCall("EC2 DescribeSubnets", ctx, (o) =>
        ec2.describeSubnets({ SubnetIds: [first] }, o),
      );
      const vpc = out.Subnets?.[0]?.VpcId;
      if (vpc) return vpc;
    }
    const out = await awsCall("EC2 DescribeVpcs (default VPC)", ctx, (o) =>
      ec2.describeVpcs({ Filters: [{ Name: "is-default", Values: ["true"] }] }, o),
    );
    const vpc = out.Vpcs?.[0]?.VpcId;
    if (!vpc)
      throw new InvalidConfigError([
        {
          path: "options.aws.vpcId",
          message: `region ${ctx.region} has no default VPC: set options.aws.vpcId and options.aws.subnetIds`,
        },
      ]);
    return vpc;
  }

  async #subnets(
    ec2: EC2,
    vpcId: string,
    zones: readonly string[],
    explicit: Readonly<Record<string, string>> | undefined,
    ctx: ResourceContext,
  ): Promise<NetworkState["subnets"]> {
    if (explicit) {
      const ids = zones.map((zone) => {
        const id = explicit[zone];
        if (!id)
          throw new InvalidConfigError([
            { path: "options.aws.subnetIds", message: `has no subnet for zone ${zone}` },
          ]);
        return id;
      });
      const out = await awsCall("EC2 DescribeSubnets", ctx, (o) =>
        ec2.describeSubnets({ SubnetIds: ids }, o),
      );
      return zones.map((zone, i) => {
        const subnet = out.Subnets?.find((s) => s.SubnetId === ids[i]);
        if (!subnet || subnet.AvailabilityZone !== zone || subnet.VpcId !== vpcId)
          throw new InvalidConfigError([
            {
              path: `options.aws.subnetIds.${zone}`,
              message: `subnet ${ids[i]} is in ${subnet?.AvailabilityZone ?? "no zone"} of ${subnet?.VpcId ?? "no VPC"}, not in ${zone} of ${vpcId}`,
            },
          ]);
        return { zone, id: subnet.SubnetId!, cidr: subnet.CidrBlock };
      });
    }
    const all = await collectPages(
      (token) =>
        awsCall("EC2 DescribeSubnets", ctx, (o) =>
          ec2.describeSubnets(
            {
              Filters: [
                { Name: "vpc-id", Values: [vpcId] },
                { Name: "availability-zone", Values: [...zones] },
              ],
              NextToken: token,
            },
            o,
          ),
        ),
      (p) => p.Subnets,
      (p) => p.NextToken,
    );
    return zones.map((zone) => {
      const inZone = all.filter((s) => s.AvailabilityZone === zone);
      // Prefer the zone's default subnet, then a lone subnet, then a lone public one; otherwise ask.
      const pick = (list: Subnet[]) => (list.length === 1 ? list[0] : undefined);
      const subnet =
        inZone.find((s) => s.DefaultForAz) ??
        pick(inZone) ??
        pick(inZone.filter((s) => s.MapPublicIpOnLaunch));
      if (!subnet)
        throw new InvalidConfigError([
          {
            path: "options.aws.subnetIds",
            message:
              inZone.length === 0
                ? `VPC ${vpcId} has no subnet in zone ${zone}: create one, or choose other zones`
                : `VPC ${vpcId} has ${inZone.length} subnets in zone ${zone}: say which one in options.aws.subnetIds`,
          },
        ]);
      return { zone, id: subnet.SubnetId!, cidr: subnet.CidrBlock };
    });
  }

  async #describeGroups(ec2: EC2, ids: readonly string[], ctx: ResourceContext): Promise<SecurityGroup[]> {
    if (ids.length === 0) return [];
    // A filter (unlike GroupIds) lists what exists instead of failing on the first missing id.
    const out = await awsCall("EC2 DescribeSecurityGroups", ctx, (o) =>
      ec2.describeSecurityGroups({ Filters: [{ Name: "group-id", Values: [...ids] }] }, o),
    );
    return out.SecurityGroups ?? [];
  }

  async #ensureGroup(
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
  async #syncRules(
    ec2: EC2,
    groups: Readonly<Record<FirewallGroup, string>>,
    rules: readonly FirewallRule[],
    ctx: ResourceContext,
  ): Promise<number> {
    const current = await this.#describeGroups(ec2, Object.values(groups), ctx);
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
}

import type { EC2, Subnet } from "@aws-sdk/client-ec2";
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
import { tagRecord } from "../tags.js";
import { AwsNodeIdentity, identityName } from "./identity.js";
import { findNetworks } from "./network-find.js";
import {
  describeGroups,
  ensureGroup,
  fromPermissions,
  GROUPS,
  syncRules,
  toPermission,
} from "./network-groups.js";
import { rulesDigest } from "./rules-digest.js";

export { TAG_GROUP, TAG_SUBNETS } from "./network-groups.js";

// Core's port matrix (network-rules.ts, https://docs.k3s.io/installation/requirements#networking): VXLAN, kubelet and MySQL are never reachable
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
      groups[group] = await ensureGroup(ec2, vpcId, group, subnetTag, ctx);
    }
    const ruleCount = await syncRules(ec2, groups, spec.rules, ctx);
    // Digest what is in place after the sync, as `read` will, so an untouched network reads equal.
    const digest = rulesDigest(groups, await describeGroups(ec2, Object.values(groups), ctx));
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
    const found = await describeGroups(ec2, Object.values(state.groups).filter(Boolean), ctx);
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
    const found = await describeGroups(ec2, ids, ctx);
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
    return findNetworks(await this.#clients.ec2(), this.#identity, tags, ctx);
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
}

import type { EC2, SecurityGroup } from "@aws-sdk/client-ec2";
import type { FirewallGroup, NetworkState, ResourceContext, Tags } from "@k3sinfra/core";
import { awsCall, collectPages } from "../call.js";
import { hasTags, tagFilters, tagRecord } from "../tags.js";
import type { AwsNodeIdentity } from "./identity.js";
import { fromPermissions, GROUPS, TAG_GROUP, TAG_SUBNETS } from "./network-groups.js";
import { rulesDigest } from "./rules-digest.js";

/**
 * The networks the tags name, rebuilt from their security groups (one per VPC and name prefix) and the
 * tags on them, with the nodes' IAM identity; an identity left alone is returned as a network of its own.
 */
export async function findNetworks(
  ec2: EC2,
  identity: AwsNodeIdentity,
  tags: Tags,
  ctx: ResourceContext,
): Promise<NetworkState[]> {
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
  const identities = await identity.findByTags(tags, ctx);
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

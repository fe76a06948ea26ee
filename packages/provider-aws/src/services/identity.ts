import type { IAM } from "@aws-sdk/client-iam";
import { type ResourceContext, TAG_CLUSTER, type Tags } from "@k3sinfra/core";
import { awsCall, collectPages } from "../call.js";
import type { AwsClients } from "../clients.js";
import { hasAwsCode } from "../errors.js";
import { assertOwned } from "../ownership.js";
import { hasTags, tagList, tagRecord } from "../tags.js";
import { parameterPrefix } from "./secrets.js";

/** IAM path of everything k3sinfra creates, so its objects list apart from the account's others. */
const PATH = "/k3sinfra/";
const POLICY = "k3sinfra-node";
/**
 * What Session Manager needs on the node (`aws ssm start-session`), inline rather than the managed
 * `AmazonSSMManagedInstanceCore`, which also allows `ssm:GetParameter` on every parameter of the account:
 * a node could then read another cluster's secrets
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-add-permissions-to-existing-profile.html).
 */
const SESSION_MANAGER = [
  "ssm:UpdateInstanceInformation",
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
];

/** The role and instance profile the nodes run as; both named after the cluster. */
export const identityName = (cluster: string): string => `k3s-${cluster}-node`;

/** EC2 may assume the role (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html). */
const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/**
 * What a node may do with its own credentials: read its cluster's parameters and write the kubeconfig
 * parameter, nothing else. The SecureStrings use the AWS managed key `aws/ssm`, whose key policy already
 * lets the account's principals decrypt through SSM, so no KMS statement is needed.
 */
export const nodePolicy = (cluster: string, region: string, account: string): string => {
  const arn = (path: string) => `arn:aws:ssm:${region}:${account}:parameter${path}`;
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadClusterSecrets",
        Effect: "Allow",
        Action: ["ssm:GetParameter", "ssm:GetParameters"],
        Resource: arn(`${parameterPrefix(cluster)}*`),
      },
      {
        Sid: "WriteKubeconfig",
        Effect: "Allow",
        Action: ["ssm:PutParameter"],
        Resource: arn(`${parameterPrefix(cluster)}kubeconfig`),
      },
      { Sid: "SessionManager", Effect: "Allow", Action: SESSION_MANAGER, Resource: "*" },
    ],
  });
};

const accountOf = (arn: string | undefined): string => arn?.split(":")[4] ?? "";

/**
 * The node identity of one cluster on AWS: an IAM role (trusting EC2) with one inline policy, in an instance
 * profile of the same name. Every step is idempotent, so a crash between
 * any two calls is finished by the next run; deletion undoes them in reverse order.
 */
export class AwsNodeIdentity {
  readonly #clients: AwsClients;

  constructor(clients: AwsClients) {
    this.#clients = clients;
  }

  /** Makes sure the role, its policies and the instance profile exist; returns the profile name. */
  async ensure(ctx: ResourceContext): Promise<string> {
    const iam = await this.#clients.iam();
    const name = identityName(ctx.cluster);
    const role = await this.#role(iam, name, ctx);
    await awsCall(`IAM PutRolePolicy (${name})`, ctx, (o) =>
      iam.putRolePolicy(
        {
          RoleName: name,
          PolicyName: POLICY,
          PolicyDocument: nodePolicy(ctx.cluster, ctx.region, accountOf(role)),
        },
        o,
      ),
    );
    await this.#profile(iam, name, ctx);
    return name;
  }

  async #role(iam: IAM, name: string, ctx: ResourceContext): Promise<string | undefined> {
    try {
      const out = await awsCall(`IAM CreateRole (${name})`, ctx, (o) =>
        iam.createRole(
          {
            RoleName: name,
            Path: PATH,
            AssumeRolePolicyDocument: TRUST,
            Description: `k3sinfra cluster ${ctx.cluster}: K3s servers`,
            Tags: tagList(ctx.tags),
          },
          o,
        ),
      );
      return out.Role?.Arn;
    } catch (error) {
      if (!hasAwsCode(error, "EntityAlreadyExists")) throw error;
      const out = await awsCall(`IAM GetRole (${name})`, ctx, (o) => iam.getRole({ RoleName: name }, o));
      assertOwned(tagRecord(out.Role?.Tags), ctx, `IAM role ${name}`);
      return out.Role?.Arn;
    }
  }

  async #profile(iam: IAM, name: string, ctx: ResourceContext): Promise<void> {
    let roles: string[] = [];
    try {
      await awsCall(`IAM CreateInstanceProfile (${name})`, ctx, (o) =>
        iam.createInstanceProfile({ InstanceProfileName: name, Path: PATH, Tags: tagList(ctx.tags) }, o),
      );
    } catch (error) {
      if (!hasAwsCode(error, "EntityAlreadyExists")) throw error;
      const out = await awsCall(`IAM GetInstanceProfile (${name})`, ctx, (o) =>
        iam.getInstanceProfile({ InstanceProfileName: name }, o),
      );
      assertOwned(tagRecord(out.InstanceProfile?.Tags), ctx, `instance profile ${name}`);
      roles = (out.InstanceProfile?.Roles ?? []).map((r) => r.RoleName ?? "");
    }
    if (!roles.includes(name))
      await awsCall(`IAM AddRoleToInstanceProfile (${name})`, ctx, (o) =>
        iam.addRoleToInstanceProfile({ InstanceProfileName: name, RoleName: name }, o),
      );
  }

  /** Whether the profile exists with its role; a missing piece is drift that `ensure` repairs. */
  async read(name: string, ctx: ResourceContext): Promise<boolean> {
    const iam = await this.#clients.iam();
    try {
      const out = await awsCall(`IAM GetInstanceProfile (${name})`, ctx, (o) =>
        iam.getInstanceProfile({ InstanceProfileName: name }, o),
      );
      return (out.InstanceProfile?.Roles ?? []).some((r) => r.RoleName === name);
    } catch (error) {
      if (hasAwsCode(error, "NoSuchEntity")) return false;
      throw error;
    }
  }

  /** Deletes the profile, the policies and the role, in the order IAM requires; missing pieces are fine. */
  async delete(name: string, ctx: ResourceContext): Promise<void> {
    const iam = await this.#clients.iam();
    const gone = (error: unknown) => {
      if (!hasAwsCode(error, "NoSuchEntity")) throw error;
    };
    const role = await awsCall(`IAM GetRole (${name})`, ctx, (o) => iam.getRole({ RoleName: name }, o)).catch(
      (error: unknown) => gone(error),
    );
    if (role?.Role) assertOwned(tagRecord(role.Role.Tags), ctx, `IAM role ${name}`);
    await awsCall(`IAM RemoveRoleFromInstanceProfile (${name})`, ctx, (o) =>
      iam.removeRoleFromInstanceProfile({ InstanceProfileName: name, RoleName: name }, o),
    ).catch(gone);
    await awsCall(`IAM DeleteInstanceProfile (${name})`, ctx, (o) =>
      iam.deleteInstanceProfile({ InstanceProfileName: name }, o),
    ).catch(gone);
    if (!role?.Role) return;
    await awsCall(`IAM DeleteRolePolicy (${name})`, ctx, (o) =>
      iam.deleteRolePolicy({ RoleName: name, PolicyName: POLICY }, o),
    ).catch(gone);
    await awsCall(`IAM DeleteRole (${name})`, ctx, (o) => iam.deleteRole({ RoleName: name }, o)).catch(gone);
  }

  /**
   * Roles and instance profiles under k3sinfra's path that carry every tag. IAM's list calls return no tags
   * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html), so each candidate's tags are
   * read; one named after another cluster is skipped before any read.
   */
  async findByTags(tags: Tags, ctx: ResourceContext): Promise<string[]> {
    const iam = await this.#clients.iam();
    const cluster = tags[TAG_CLUSTER];
    const roles = await collectPages(
      (Marker) => awsCall("IAM ListRoles", ctx, (o) => iam.listRoles({ PathPrefix: PATH, Marker }, o)),
      (p) => p.Roles,
      (p) => (p.IsTruncated ? p.Marker : undefined),
    );
    const profiles = await collectPages(
      (Marker) =>
        awsCall("IAM ListInstanceProfiles", ctx, (o) =>
          iam.listInstanceProfiles({ PathPrefix: PATH, Marker }, o),
        ),
      (p) => p.InstanceProfiles,
      (p) => (p.IsTruncated ? p.Marker : undefined),
    );
    const names = new Set<string>();
    for (const r of roles) {
      const name = r.RoleName ?? "";
      if (cluster && name !== identityName(cluster)) continue;
      const t = await awsCall(`IAM ListRoleTags (${name})`, ctx, (o) =>
        iam.listRoleTags({ RoleName: name }, o),
      ).catch((error: unknown) => (hasAwsCode(error, "NoSuchEntity") ? undefined : Promise.reject(error)));
      if (t && hasTags(tagRecord(t.Tags), tags)) names.add(name);
    }
    for (const p of profiles) {
      const name = p.InstanceProfileName ?? "";
      if (names.has(name) || (cluster && name !== identityName(cluster))) continue;
      const t = await awsCall(`IAM ListInstanceProfileTags (${name})`, ctx, (o) =>
        iam.listInstanceProfileTags({ InstanceProfileName: name }, o),
      ).catch((error: unknown) => (hasAwsCode(error, "NoSuchEntity") ? undefined : Promise.reject(error)));
      if (t && hasTags(tagRecord(t.Tags), tags)) names.add(name);
    }
    return [...names];
  }
}

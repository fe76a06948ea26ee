/**
 * IAM (Query protocol, API 2010-05-08; global: signed for us-east-1 at iam.amazonaws.com): roles with inline
 * and attached policies, instance profiles, tags. A new instance profile (or a role just added to one) is
 * not yet usable by RunInstances, as IAM is eventually consistent
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
 * API reference: https://docs.aws.amazon.com/IAM/latest/APIReference/welcome.html
 */
import type { InventoryItem } from "../../types.js";
import type { QueryOp } from "../kernel/call.js";
import { ACCOUNT_ID, iso, type Tags, UPPER_ALNUM } from "../kernel/common.js";
import { AWS_DURATIONS } from "../kernel/durations.js";
import { AwsError } from "../kernel/errors.js";
import type { ServiceKernel } from "../kernel/lookups.js";
import { int, str, strList } from "../kernel/query.js";
import { managedPolicy, type PolicyDocument, parsePolicy } from "./policy.js";
import { checkPattern, mergeTags, NAME, PATH, page, readTags, tagsOut } from "./shapes.js";

export interface IamRole {
  name: string;
  id: string;
  path: string;
  assumeRolePolicy: string;
  description?: string;
  maxSessionDuration: number;
  createdAt: number;
  tags: Tags;
  /** Inline policies: name → document as given. */
  inline: Record<string, string>;
  /** Attached managed policy ARNs. */
  attached: string[];
}

export interface IamProfile {
  name: string;
  id: string;
  path: string;
  createdAt: number;
  tags: Tags;
  role?: string;
  /** When the role was added (it propagates like a new profile). */
  roleAddedAt?: number;
}

/** Names are unique regardless of case, so both maps are keyed by the lower-cased name. */
export interface IamState {
  roles: Record<string, IamRole>;
  profiles: Record<string, IamProfile>;
  /** The account's secret key material (base64): signs role sessions and IMDS tokens, seals SecureStrings. */
  secret?: string;
}

// At timeScale 1 a new profile needs a few seconds before EC2 accepts it.
export const IAM_PROPAGATION_SECONDS = AWS_DURATIONS.iam.propagation;

const roleArn = (r: IamRole): string => `arn:aws:iam::${ACCOUNT_ID}:role${r.path}${r.name}`;
export const profileArn = (p: IamProfile): string =>
  `arn:aws:iam::${ACCOUNT_ID}:instance-profile${p.path}${p.name}`;

const noRole = (name: string): AwsError =>
  new AwsError("NoSuchEntity", `The role with name ${name} cannot be found.`, 404);
const noProfile = (name: string): AwsError =>
  new AwsError("NoSuchEntity", `Instance Profile ${name} cannot be found.`, 404);
const conflict = (message: string): AwsError => new AwsError("DeleteConflict", message, 409);

export class IamService {
  constructor(private readonly k: ServiceKernel<IamState>) {}

  get state(): IamState {
    return this.k.state();
  }

  private newId(prefix: string): string {
    return prefix + this.k.ctx.rng.chars(17, UPPER_ALNUM);
  }

  role(name: string): IamRole {
    const r = this.state.roles[name.toLowerCase()];
    if (!r) throw noRole(name);
    return r;
  }

  profile(name: string): IamProfile {
    const p = this.state.profiles[name.toLowerCase()];
    if (!p) throw noProfile(name);
    return p;
  }

  /** The role's identity-based policies: inline documents, then the attached managed ones. */
  rolePolicies(r: IamRole): PolicyDocument[] {
    const docs = Object.values(r.inline).map((text) => parsePolicy(text, false));
    for (const arn of r.attached) {
      const m = managedPolicy(arn);
      if (m) docs.push(m.document);
    }
    return docs;
  }

  /** The propagation delay (option `iamPropagationMs`, default 8 s scaled). */
  private get delayMs(): number {
    return this.k.ctx.options.iamPropagationMs ?? IAM_PROPAGATION_SECONDS * 1000 * this.k.ctx.timeScale;
  }

  /**
   * The instance profile RunInstances/AssociateIamInstanceProfile names, once EC2 can see it; the real error
   * otherwise: "Value (x) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name".
   */
  profileForLaunch(spec: { arn?: string; name?: string }, now: number): { arn: string; id: string } {
    if (spec.arn !== undefined && spec.name !== undefined)
      throw new AwsError(
        "InvalidParameterCombination",
        "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'",
      );
    const byArn = spec.arn !== undefined;
    const value = spec.arn ?? spec.name ?? "";
    const name = byArn ? /^arn:aws:iam::(\d{12}):instance-profile\/(?:.*\/)?([^/]+)$/.exec(value) : undefined;
    const p =
      this.state.profiles[
        (byArn ? (name?.[1] === ACCOUNT_ID ? name[2] : undefined) : value)?.toLowerCase() ?? ""
      ];
    const visible =
      p &&
      (!byArn || profileArn(p) === value) &&
      now >= Math.max(p.createdAt, p.roleAddedAt ?? 0) + this.delayMs;
    if (!p || !visible)
      throw new AwsError(
        "InvalidParameterValue",
        byArn
          ? `Value (${value}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN`
          : `Value (${value}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`,
      );
    return { arn: profileArn(p), id: p.id };
  }

  /** The role an instance's profile carries now (undefined when the profile is gone, replaced or empty). */
  roleOfProfile(arn: string, id: string | undefined): IamRole | undefined {
    const p = Object.values(this.state.profiles).find((x) => profileArn(x) === arn && (!id || x.id === id));
    return p?.role ? this.state.roles[p.role.toLowerCase()] : undefined;
  }

  private roleOut(r: IamRole, withTags: boolean) {
    return {
      Path: r.path,
      RoleName: r.name,
      RoleId: r.id,
      Arn: roleArn(r),
      CreateDate: iso(r.createdAt),
      // Policy documents come back URL-encoded (RFC 3986), as IAM returns them.
      AssumeRolePolicyDocument: encodeURIComponent(r.assumeRolePolicy),
      Description: r.description,
      MaxSessionDuration: r.maxSessionDuration,
      Tags: withTags && Object.keys(r.tags).length ? tagsOut(r.tags) : undefined,
    };
  }

  private profileOut(p: IamProfile) {
    const role = p.role ? this.state.roles[p.role.toLowerCase()] : undefined;
    return {
      Path: p.path,
      InstanceProfileName: p.name,
      InstanceProfileId: p.id,
      Arn: profileArn(p),
      CreateDate: iso(p.createdAt),
      Roles: role ? [this.roleOut(role, false)] : [],
      Tags: Object.keys(p.tags).length ? tagsOut(p.tags) : undefined,
    };
  }

  inventory(): InventoryItem[] {
    const base = { cloud: "aws", service: "iam", state: "available" };
    return [
      ...Object.values(this.state.roles).map((r) => ({
        ...base,
        type: "iam-role",
        id: r.id,
        name: r.name,
        tags: { ...r.tags },
      })),
      ...Object.values(this.state.profiles).map((p) => ({
        ...base,
        type: "iam-instance-profile",
        id: p.id,
        name: p.name,
        tags: { ...p.tags },
      })),
    ];
  }

  readonly ops: Record<string, QueryOp> = {
    CreateRole: (input, call) => {
      const name = str(input, "RoleName")!;
      const path = str(input, "Path") ?? "/";
      checkPattern("roleName", name, NAME, "[\\w+=,.@-]+");
      checkPattern("path", path, PATH, "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
      if (this.state.roles[name.toLowerCase()])
        throw new AwsError("EntityAlreadyExists", `Role with name ${name} already exists.`, 409);
      const doc = str(input, "AssumeRolePolicyDocument")!;
      parsePolicy(doc, true);
      const tags: Tags = {};
      mergeTags(tags, readTags(input), "TagsPerRole");
      const r: IamRole = {
        name,
        id: this.newId("AROA"),
        path,
        assumeRolePolicy: doc,
        description: str(input, "Description"),
        maxSessionDuration: int(input, "MaxSessionDuration") ?? 3600,
        createdAt: call.now,
        tags,
        inline: {},
        attached: [],
      };
      this.state.roles[name.toLowerCase()] = r;
      return { Role: this.roleOut(r, true) };
    },
    GetRole: (input) => ({ Role: this.roleOut(this.role(str(input, "RoleName")!), true) }),
    ListRoles: (input) => {
      const prefix = str(input, "PathPrefix") ?? "/";
      const roles = Object.values(this.state.roles).filter((r) => r.path.startsWith(prefix));
      const { items, ...rest } = page(roles, input);
      return { Roles: items.map((r) => this.roleOut(r, false)), ...rest };
    },
    // https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html: policies and profiles first.
    DeleteRole: (input) => {
      const r = this.role(str(input, "RoleName")!);
      if (Object.keys(r.inline).length) throw conflict("Cannot delete entity, must delete policies first.");
      if (r.attached.length) throw conflict("Cannot delete entity, must detach all policies first.");
      if (Object.values(this.state.profiles).some((p) => p.role?.toLowerCase() === r.name.toLowerCase()))
        throw conflict("Cannot delete entity, must remove roles from instance profile first.");
      delete this.state.roles[r.name.toLowerCase()];
      return {};
    },
    TagRole: (input) => {
      mergeTags(this.role(str(input, "RoleName")!).tags, readTags(input), "TagsPerRole");
      return {};
    },
    UntagRole: (input) => {
      const r = this.role(str(input, "RoleName")!);
      for (const k of strList(input, "TagKeys.member")) delete r.tags[k];
      return {};
    },
    ListRoleTags: (input) => {
      const { items, ...rest } = page(tagsOut(this.role(str(input, "RoleName")!).tags), input);
      return { Tags: items, ...rest };
    },
    PutRolePolicy: (input) => {
      const r = this.role(str(input, "RoleName")!);
      const name = str(input, "PolicyName")!;
      checkPattern("policyName", name, NAME, "[\\w+=,.@-]+");
      const doc = str(input, "PolicyDocument")!;
      parsePolicy(doc, false);
      r.inline[name] = doc;
      return {};
    },
    GetRolePolicy: (input) => {
      const r = this.role(str(input, "RoleName")!);
      const name = str(input, "PolicyName")!;
      const doc = r.inline[name];
      if (doc === undefined)
        throw new AwsError("NoSuchEntity", `The role policy with name ${name} cannot be found.`, 404);
      return { RoleName: r.name, PolicyName: name, PolicyDocument: encodeURIComponent(doc) };
    },
    DeleteRolePolicy: (input) => {
      const r = this.role(str(input, "RoleName")!);
      const name = str(input, "PolicyName")!;
      if (r.inline[name] === undefined)
        throw new AwsError("NoSuchEntity", `The role policy with name ${name} cannot be found.`, 404);
      delete r.inline[name];
      return {};
    },
    ListRolePolicies: (input) => {
      const { items, ...rest } = page(Object.keys(this.role(str(input, "RoleName")!).inline).sort(), input);
      return { PolicyNames: items, ...rest };
    },
    AttachRolePolicy: (input) => {
      const r = this.role(str(input, "RoleName")!);
      const arn = str(input, "PolicyArn")!;
      if (!managedPolicy(arn))
        throw new AwsError("NoSuchEntity", `Policy ${arn} does not exist or is not attachable.`, 404);
      if (!r.attached.includes(arn)) r.attached.push(arn);
      return {};
    },
    DetachRolePolicy: (input) => {
      const r = this.role(str(input, "RoleName")!);
      const arn = str(input, "PolicyArn")!;
      if (!r.attached.includes(arn)) throw new AwsError("NoSuchEntity", `Policy ${arn} was not found.`, 404);
      r.attached = r.attached.filter((a) => a !== arn);
      return {};
    },
    ListAttachedRolePolicies: (input) => {
      const r = this.role(str(input, "RoleName")!);
      const { items, ...rest } = page(r.attached, input);
      return {
        AttachedPolicies: items.map((arn) => ({
          PolicyName: managedPolicy(arn)?.name ?? arn,
          PolicyArn: arn,
        })),
        ...rest,
      };
    },
    CreateInstanceProfile: (input, call) => {
      const name = str(input, "InstanceProfileName")!;
      const path = str(input, "Path") ?? "/";
      checkPattern("instanceProfileName", name, NAME, "[\\w+=,.@-]+");
      checkPattern("path", path, PATH, "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
      if (this.state.profiles[name.toLowerCase()])
        throw new AwsError("EntityAlreadyExists", `Instance Profile ${name} already exists.`, 409);
      const tags: Tags = {};
      mergeTags(tags, readTags(input), "TagsPerInstanceProfile");
      const p: IamProfile = { name, id: this.newId("AIPA"), path, createdAt: call.now, tags };
      this.state.profiles[name.toLowerCase()] = p;
      return { InstanceProfile: this.profileOut(p) };
    },
    GetInstanceProfile: (input) => ({
      InstanceProfile: this.profileOut(this.profile(str(input, "InstanceProfileName")!)),
    }),
    ListInstanceProfiles: (input) => {
      const prefix = str(input, "PathPrefix") ?? "/";
      const all = Object.values(this.state.profiles).filter((p) => p.path.startsWith(prefix));
      const { items, ...rest } = page(all, input);
      return { InstanceProfiles: items.map((p) => this.profileOut(p)), ...rest };
    },
    ListInstanceProfilesForRole: (input) => {
      const r = this.role(str(input, "RoleName")!);
      const all = Object.values(this.state.profiles).filter(
        (p) => p.role?.toLowerCase() === r.name.toLowerCase(),
      );
      const { items, ...rest } = page(all, input);
      return { InstanceProfiles: items.map((p) => this.profileOut(p)), ...rest };
    },
    // One role per profile, a quota that cannot be raised
    // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddRoleToInstanceProfile.html).
    AddRoleToInstanceProfile: (input, call) => {
      const p = this.profile(str(input, "InstanceProfileName")!);
      const r = this.role(str(input, "RoleName")!);
      if (p.role)
        throw new AwsError(
          "LimitExceeded",
          "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
          409,
        );
      p.role = r.name;
      p.roleAddedAt = call.now;
      return {};
    },
    RemoveRoleFromInstanceProfile: (input) => {
      const p = this.profile(str(input, "InstanceProfileName")!);
      const name = str(input, "RoleName")!;
      this.role(name);
      if (p.role?.toLowerCase() !== name.toLowerCase()) throw noRole(name);
      delete p.role;
      delete p.roleAddedAt;
      return {};
    },
    DeleteInstanceProfile: (input) => {
      const p = this.profile(str(input, "InstanceProfileName")!);
      if (p.role) throw conflict("Cannot delete entity, must remove roles from instance profile first.");
      delete this.state.profiles[p.name.toLowerCase()];
      return {};
    },
    TagInstanceProfile: (input) => {
      mergeTags(
        this.profile(str(input, "InstanceProfileName")!).tags,
        readTags(input),
        "TagsPerInstanceProfile",
      );
      return {};
    },
    UntagInstanceProfile: (input) => {
      const p = this.profile(str(input, "InstanceProfileName")!);
      for (const k of strList(input, "TagKeys.member")) delete p.tags[k];
      return {};
    },
    ListInstanceProfileTags: (input) => {
      const { items, ...rest } = page(tagsOut(this.profile(str(input, "InstanceProfileName")!).tags), input);
      return { Tags: items, ...rest };
    },
  };
}

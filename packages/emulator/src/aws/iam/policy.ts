/**
 * IAM policy documents: the grammar checks IAM makes when a policy is stored (MalformedPolicyDocument),
 * identity-based evaluation (an explicit Deny wins, then any Allow, otherwise the implicit deny), and the
 * AWS managed policies the emulator knows.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import { AwsError } from "../kernel/errors.js";

export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  Condition?: unknown;
}

export interface PolicyDocument {
  Version?: string;
  Statement: Statement[];
}

const malformed = (message: string): AwsError => new AwsError("MalformedPolicyDocument", message);

/**
 * Parse and check a policy document as IAM does on PutRolePolicy/CreateRole
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html). `trust`: an assume-role
 * policy, whose statements name a Principal and no Resource.
 */
export function parsePolicy(text: string, trust: boolean): PolicyDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed("This policy contains invalid Json");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw malformed("Syntax errors in policy.");
  const d = doc as { Version?: unknown; Statement?: unknown };
  if (d.Version !== undefined && d.Version !== "2012-10-17" && d.Version !== "2008-10-17")
    throw malformed("The policy failed legacy parsing");
  const raw = d.Statement === undefined ? [] : Array.isArray(d.Statement) ? d.Statement : [d.Statement];
  if (raw.length === 0) throw malformed("Syntax errors in policy.");
  const statements = raw.map((s: unknown): Statement => {
    if (typeof s !== "object" || s === null) throw malformed("Syntax errors in policy.");
    const st = s as Statement;
    if (st.Effect !== "Allow" && st.Effect !== "Deny") throw malformed("Syntax errors in policy.");
    if ((st.Action === undefined) === (st.NotAction === undefined))
      throw malformed("Missing required field Action");
    if (trust) {
      if (st.Principal === undefined) throw malformed("Missing required field Principal");
      if (st.Resource !== undefined) throw malformed("Has prohibited field Resource");
    } else {
      if (st.Principal !== undefined) throw malformed("Policy document should not specify a principal.");
      if ((st.Resource === undefined) === (st.NotResource === undefined))
        throw malformed("Policy statement must contain resources.");
    }
    for (const a of asList(st.Action ?? st.NotAction)) {
      if (a !== "*" && !/^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$/.test(a))
        throw malformed(`Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.`);
    }
    return st;
  });
  return { Version: d.Version as string | undefined, Statement: statements };
}

const asList = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** `*` and `?` wildcards; actions compare case-insensitively, resources (ARNs) case-sensitively. */
function glob(pattern: string, value: string, ignoreCase: boolean): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, ignoreCase ? "i" : "").test(value);
}

function applies(st: Statement, action: string, resource: string): boolean {
  const actionHit =
    st.Action !== undefined
      ? asList(st.Action).some((p) => glob(p, action, true))
      : !asList(st.NotAction).some((p) => glob(p, action, true));
  if (!actionHit) return false;
  // Conditions are not evaluated: a statement with one never applies, so it can only grant less.
  if (st.Condition !== undefined) return st.Effect === "Deny";
  return st.Resource !== undefined
    ? asList(st.Resource).some((p) => glob(p, resource, false))
    : !asList(st.NotResource).some((p) => glob(p, resource, false));
}

export type Decision = "allow" | "explicit-deny" | "implicit-deny";

/** Evaluate identity-based policies for one action on one resource. */
export function evaluate(policies: readonly PolicyDocument[], action: string, resource: string): Decision {
  let allowed = false;
  for (const p of policies) {
    for (const st of p.Statement) {
      if (!applies(st, action, resource)) continue;
      if (st.Effect === "Deny") return "explicit-deny";
      allowed = true;
    }
  }
  return allowed ? "allow" : "implicit-deny";
}

export interface ManagedPolicy {
  name: string;
  arn: string;
  path: string;
  /** Its default version's document. */
  document: PolicyDocument;
}

/**
 * AWS managed policies. AmazonSSMManagedInstanceCore v2 as published
 * (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedInstanceCore.html); note that
 * it allows ssm:GetParameter(s) on every resource.
 */
export const MANAGED_POLICIES: readonly ManagedPolicy[] = [
  {
    name: "AmazonSSMManagedInstanceCore",
    arn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    path: "/",
    document: {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: [
            "ssm:DescribeAssociation",
            "ssm:GetDeployablePatchSnapshotForInstance",
            "ssm:GetDocument",
            "ssm:DescribeDocument",
            "ssm:GetManifest",
            "ssm:GetParameter",
            "ssm:GetParameters",
            "ssm:ListAssociations",
            "ssm:ListInstanceAssociations",
            "ssm:PutInventory",
            "ssm:PutComplianceItems",
            "ssm:PutConfigurePackageResult",
            "ssm:UpdateAssociationStatus",
            "ssm:UpdateInstanceAssociationStatus",
            "ssm:UpdateInstanceInformation",
          ],
          Resource: "*",
        },
        {
          Effect: "Allow",
          Action: [
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
          ],
          Resource: "*",
        },
        {
          Effect: "Allow",
          Action: [
            "ec2messages:AcknowledgeMessage",
            "ec2messages:DeleteMessage",
            "ec2messages:FailMessage",
            "ec2messages:GetEndpoint",
            "ec2messages:GetMessages",
            "ec2messages:SendReply",
          ],
          Resource: "*",
        },
      ],
    },
  },
];

export const managedPolicy = (arn: string): ManagedPolicy | undefined =>
  MANAGED_POLICIES.find((p) => p.arn === arn);

import { CrashProxy, type ProxiedCall } from "@k3sinfra/emulator/crash-proxy";

/** AWS calls that create an object (or a rule inside one): a crash right after any of them can leak it. */
export const CREATE_CALLS = [
  "CreateSecurityGroup",
  "AuthorizeSecurityGroupIngress",
  "RunInstances",
  "CreateDBSubnetGroup",
  "CreateDBParameterGroup",
  "CreateDBInstance",
  "CreateLoadBalancer",
  "CreateTargetGroup",
  "CreateListener",
  "ChangeResourceRecordSets",
  "CreateRole",
  "PutRolePolicy",
  "CreateInstanceProfile",
  "AddRoleToInstanceProfile",
  "PutParameter",
] as const;

/** The operation of a query-protocol (EC2, RDS, ELBv2), Route 53 or JSON-protocol (SSM) request. */
export const operationOf = (call: ProxiedCall): string => {
  // JSON protocols (SSM) name the operation in X-Amz-Target: `AmazonSSM.PutParameter`.
  const target = call.headers["x-amz-target"];
  if (typeof target === "string") return target.slice(target.lastIndexOf(".") + 1);
  const action = new URLSearchParams(call.body).get("Action");
  if (action) return action;
  if (call.method === "POST" && /\/hostedzone\/[^/]+\/rrset\/?$/.test(call.path))
    return "ChangeResourceRecordSets";
  return `${call.method} ${call.path}`;
};

/** A crash proxy (the emulator's) in front of the AWS endpoint, counting the calls that create something. */
export const awsCrashProxy = (target: string): CrashProxy =>
  new CrashProxy({
    target,
    counts: (call) => (CREATE_CALLS as readonly string[]).includes(operationOf(call)),
  });

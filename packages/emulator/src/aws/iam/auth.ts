/**
 * Who is calling, and may they. The emulator's own static key is the account's administrator: it is never
 * checked, as before. Temporary credentials handed to instances through IMDS (`ASIA…` + a session token)
 * are real: the SigV4 signature is verified with their secret, and every call is authorized against the
 * role's identity-based policies (inline + attached).
 * SigV4: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 * Evaluation: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { CloudRequest } from "../../cloud.js";
import { ACCOUNT_ID, hmac, iso, parameterArn } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import type { Protocol } from "../kernel/lookups.js";
import { evaluate } from "./policy.js";
import type { IamRole, IamService } from "./service.js";

export type { Protocol };

/** How long instance role credentials are valid, and how often IMDS hands out new ones (wall clock). */
const SESSION_MS = 6 * 3600_000;
const ROTATE_MS = 3600_000;

/** The account's key material, created on first use and persisted with the IAM state. */
export function accountKey(iam: IamService): Buffer {
  iam.state.secret ??= randomBytes(32).toString("base64");
  return Buffer.from(iam.state.secret, "base64");
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString("base64url");

export interface RoleCredentials {
  Code: "Success";
  LastUpdated: string;
  Type: "AWS-HMAC";
  AccessKeyId: string;
  SecretAccessKey: string;
  Token: string;
  Expiration: string;
}

interface SessionClaims {
  /** role name, role id, session name (the instance id), access key id, expiry (ms). */
  r: string;
  rid: string;
  s: string;
  k: string;
  e: number;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** The secret half of a session key: derived, so nothing per session needs to be stored. */
const sessionSecret = (key: Buffer, accessKeyId: string): string =>
  hmac(key, `secret|${accessKeyId}`).toString("base64").slice(0, 40);

/**
 * The credentials IMDS serves for an instance's role: the same within a rotation window, then new ones, each
 * valid for six hours (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html#instance-metadata-security-credentials).
 */
export function roleCredentials(
  iam: IamService,
  role: IamRole,
  instanceId: string,
  now: number,
): RoleCredentials {
  const key = accountKey(iam);
  const issued = Math.floor(now / ROTATE_MS) * ROTATE_MS;
  const digest = hmac(key, `akid|${instanceId}|${role.id}|${issued}`);
  const accessKeyId = `ASIA${[...digest.subarray(0, 16)].map((b) => BASE32[b % 32]).join("")}`;
  const claims: SessionClaims = {
    r: role.name,
    rid: role.id,
    s: instanceId,
    k: accessKeyId,
    e: issued + SESSION_MS,
  };
  const payload = b64url(JSON.stringify(claims));
  return {
    Code: "Success",
    LastUpdated: iso(issued).replace(/\.\d{3}Z$/, "Z"),
    Type: "AWS-HMAC",
    AccessKeyId: accessKeyId,
    SecretAccessKey: sessionSecret(key, accessKeyId),
    Token: `${payload}.${b64url(hmac(key, `token|${payload}`))}`,
    Expiration: iso(claims.e).replace(/\.\d{3}Z$/, "Z"),
  };
}

/** The caller: the account's administrator (the emulator's static key), or an instance's role session. */
export type Principal = { kind: "account" } | { kind: "role"; role: IamRole; arn: string };

const authErrors = {
  json: {
    invalid: ["UnrecognizedClientException", 400],
    signature: ["InvalidSignatureException", 400],
    expired: ["ExpiredTokenException", 400],
    denied: ["AccessDeniedException", 400],
  },
  query: {
    invalid: ["InvalidClientTokenId", 403],
    signature: ["SignatureDoesNotMatch", 403],
    expired: ["ExpiredToken", 403],
    denied: ["AccessDenied", 403],
  },
  ec2: {
    invalid: ["AuthFailure", 401],
    signature: ["AuthFailure", 401],
    expired: ["RequestExpired", 400],
    denied: ["UnauthorizedOperation", 403],
  },
} as const;

const fail = (p: Protocol, kind: keyof (typeof authErrors)["json"], message: string): AwsError => {
  const [code, status] = authErrors[p][kind];
  return new AwsError(code, message, status);
};

const INVALID_TOKEN = "The security token included in the request is invalid.";

/** Verify a request signed with session credentials; the static key passes unchecked. */
export function authenticate(iam: IamService, req: CloudRequest, now: number, p: Protocol): Principal {
  const m =
    /Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})/.exec(
      String(req.headers.authorization ?? ""),
    );
  const akid = m?.[1] ?? "";
  if (!m || !akid.startsWith("ASIA")) return { kind: "account" };
  const key = accountKey(iam);
  const token = String(req.headers["x-amz-security-token"] ?? "");
  const [payload = "", mac = ""] = token.split(".");
  const expected = b64url(hmac(key, `token|${payload}`));
  if (mac.length !== expected.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(expected)))
    throw fail(p, "invalid", INVALID_TOKEN);
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as SessionClaims;
  const role = iam.state.roles[claims.r.toLowerCase()];
  if (claims.k !== akid || !role || role.id !== claims.rid) throw fail(p, "invalid", INVALID_TOKEN);
  if (now >= claims.e) throw fail(p, "expired", "The security token included in the request is expired");
  const [, , date, region, service, signedHeaders, signature] = m;
  if (
    signature !==
    signatureOf(req, sessionSecret(key, akid), `${date}/${region}/${service}/aws4_request`, signedHeaders!)
  )
    throw fail(
      p,
      "signature",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
  return { kind: "role", role, arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role.name}/${claims.s}` };
}

/** RFC 3986 escaping as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const escapeUri = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The signature the caller should have computed (non-S3 rules: the path is encoded once more). */
export function signatureOf(req: CloudRequest, secret: string, scope: string, signedHeaders: string): string {
  const segments: string[] = [];
  for (const s of req.path.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") segments.pop();
    else segments.push(s);
  }
  const path = `/${segments.join("/")}${segments.length && req.path.endsWith("/") ? "/" : ""}`;
  const query = [...req.query]
    .map(([k, v]) => [escapeUri(k), escapeUri(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const names = signedHeaders.split(";");
  const headers = names
    .map(
      (n) =>
        `${n}:${String(req.headers[n] ?? "")
          .trim()
          .replace(/\s+/g, " ")}\n`,
    )
    .join("");
  const payloadHash =
    String(req.headers["x-amz-content-sha256"] ?? "") ||
    createHash("sha256").update(req.body, "utf8").digest("hex");
  const canonical = [
    req.method,
    escapeUri(path).replace(/%2F/g, "/"),
    query,
    headers,
    signedHeaders,
    payloadHash,
  ].join("\n");
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  const toSign = [
    "AWS4-HMAC-SHA256",
    amzDate,
    scope,
    createHash("sha256").update(canonical).digest("hex"),
  ].join("\n");
  const [date = "", region = "", service = ""] = scope.split("/");
  const kSigning = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
  return hmac(kSigning, toSign).toString("hex");
}

/**
 * Authorize `action` on every resource, as IAM does for a role session: an explicit deny wins, otherwise an
 * Allow is needed. The message is the real one, e.g. "User: arn:aws:sts::123456789012:assumed-role/r/i-… is not
 * authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:…:parameter/x because no identity-based
 * policy allows the ssm:GetParameter action".
 */
export function authorize(
  iam: IamService,
  who: Principal,
  p: Protocol,
  action: string,
  resources: string[],
): void {
  if (who.kind === "account") return;
  const policies = iam.rolePolicies(who.role);
  for (const resource of resources) {
    const decision = evaluate(policies, action, resource);
    if (decision === "allow") continue;
    const why =
      decision === "explicit-deny"
        ? "with an explicit deny in an identity-based policy"
        : `because no identity-based policy allows the ${action} action`;
    throw fail(
      p,
      "denied",
      `User: ${who.arn} is not authorized to perform: ${action} on resource: ${resource} ${why}`,
    );
  }
}

/** IAM action prefixes of the emulated services (https://docs.aws.amazon.com/service-authorization/latest/reference/). */
const ACTION_PREFIX: Record<string, string> = { elbv2: "elasticloadbalancing" };

/** The resources an SSM call acts on; other calls are authorized against `*`. */
function resourcesOf(service: string, region: string, input: Record<string, unknown>): string[] {
  if (service !== "ssm") return ["*"];
  const one = input.Name ?? input.Path ?? (input.ResourceType === "Parameter" ? input.ResourceId : undefined);
  if (typeof one === "string") return [parameterArn(region, one)];
  if (Array.isArray(input.Names)) return input.Names.map((n) => parameterArn(region, String(n)));
  return ["*"];
}

/**
 * Authenticate and authorize one call before it runs. GetCallerIdentity needs no permission
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
 */
export function guard(
  iam: IamService,
  req: CloudRequest,
  call: { service: string; operation: string; region: string; now: number },
  input: Record<string, unknown>,
  p: Protocol,
): void {
  const who = authenticate(iam, req, call.now, p);
  if (call.service === "sts" && call.operation === "GetCallerIdentity") return;
  const action = `${ACTION_PREFIX[call.service] ?? call.service}:${call.operation}`;
  authorize(iam, who, p, action, resourcesOf(call.service, call.region, input));
}

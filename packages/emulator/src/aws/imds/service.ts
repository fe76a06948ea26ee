/**
 * The instance metadata service as each instance sees it, served under `/imds/<instance-id>/…` of the
 * emulator (Emulator.imdsEndpoint): IMDSv2 session tokens, meta-data, user data, the identity document and
 * the role credentials of the instance profile.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-categories.html
 */
import { timingSafeEqual } from "node:crypto";
import type { CloudContext, CloudRequest, HttpResponse, RoutedCall } from "../../cloud.js";
import { ACCOUNT_ID, hmac, iso } from "../kernel/common.js";
import type { AwsLookups } from "../kernel/lookups.js";
import type { Instance } from "../kernel/shapes.js";

const text = (status: number, body: string, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: { "content-type": "text/plain", ...headers },
  body,
});
const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};
const status = (code: number): HttpResponse => text(code, STATUS_TEXT[code] ?? String(code));
const b64url = (s: string): string => Buffer.from(s).toString("base64url");
const lines = (items: string[]): string => items.join("\n");

export class ImdsService {
  constructor(
    private readonly ctx: CloudContext,
    private readonly lookups: AwsLookups,
  ) {}

  private find(id: string): { region: string; i: Instance } | undefined {
    for (const [region, r] of Object.entries(this.lookups.ec2.regions())) {
      const i = r.instances[id];
      if (i) return { region, i };
    }
    return undefined;
  }

  private token(instanceId: string, ttl: number, now: number): string {
    const payload = b64url(JSON.stringify({ i: instanceId, e: now + ttl * 1000 }));
    return `${payload}.${hmac(this.lookups.iam.accountKey(), `imds|${payload}`).toString("base64url")}`;
  }

  private tokenValid(token: string, instanceId: string, now: number): boolean {
    const [payload = "", mac = ""] = token.split(".");
    const expected = hmac(this.lookups.iam.accountKey(), `imds|${payload}`).toString("base64url");
    if (mac.length !== expected.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(expected)))
      return false;
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as { i: string; e: number };
    return claims.i === instanceId && now < claims.e;
  }

  /** `/imds/<id>/latest/…` → a routed call (service `imds`: request log, call counts and faults apply). */
  route(req: CloudRequest): RoutedCall | undefined {
    const m = /^\/imds\/([^/]+)(\/.*)$/.exec(req.path);
    if (!m) return undefined;
    const [, id, path] = m as unknown as [string, string, string];
    const operation =
      path === "/latest/api/token"
        ? "PutToken"
        : path.includes("/security-credentials/")
          ? "GetCredentials"
          : "GetMetadata";
    return {
      service: "imds",
      operation,
      run: async () => this.answer(req, id, path),
      // IMDS throttles with 429 (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html#instancedata-throttling).
      fault: (kind) => status(kind === "throttle" ? 429 : kind === "unavailable503" ? 503 : 500),
    };
  }

  private answer(req: CloudRequest, id: string, path: string): HttpResponse {
    const now = this.ctx.now();
    const found = this.find(id);
    const state = found ? this.lookups.ec2.instanceState(found.i, now) : "";
    // Only a booted instance has a metadata service to talk to.
    if (!found || (state !== "pending" && state !== "running") || found.i.metadata.httpEndpoint !== "enabled")
      return status(404);
    const { region, i } = found;
    if (path === "/latest/api/token") {
      if (req.method !== "PUT") return status(405);
      // A token request that went through a proxy is refused, which keeps tokens on the instance.
      if (req.headers["x-forwarded-for"] !== undefined) return status(403);
      const ttl = Number(req.headers["x-aws-ec2-metadata-token-ttl-seconds"]);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return status(400);
      return text(200, this.token(id, ttl, now), { "x-aws-ec2-metadata-token-ttl-seconds": String(ttl) });
    }
    if (req.method !== "GET" && req.method !== "HEAD") return status(405);
    const token = req.headers["x-aws-ec2-metadata-token"];
    if (token !== undefined ? !this.tokenValid(String(token), id, now) : i.metadata.httpTokens === "required")
      return status(401);
    const body = this.read(region, i, path.replace(/^\/latest\//, ""), now);
    return body === undefined ? status(404) : text(200, body);
  }

  private read(region: string, i: Instance, path: string, now: number): string | undefined {
    const role = this.lookups.iam.instanceRoleName(i);
    const tags = i.metadata.tags === "enabled" ? i.tags : undefined;
    const md: Record<string, string | undefined> = {
      "ami-id": i.imageId,
      "ami-launch-index": String(i.launchIndex),
      "instance-id": i.id,
      "instance-type": i.type,
      "local-ipv4": i.privateIp,
      "local-hostname": `ip-${i.privateIp.replaceAll(".", "-")}.ec2.internal`,
      mac: i.mac,
      "public-ipv4": this.lookups.ec2.instanceState(i, now) === "running" ? i.publicIp : undefined,
      "placement/region": region,
      "placement/availability-zone": i.az,
      "placement/availability-zone-id": i.azId,
    };
    if (path === "user-data")
      return i.userData ? Buffer.from(i.userData, "base64").toString("utf8") : undefined;
    if (path === "dynamic/instance-identity/document")
      return JSON.stringify(
        {
          accountId: ACCOUNT_ID,
          architecture: "x86_64",
          availabilityZone: i.az,
          imageId: i.imageId,
          instanceId: i.id,
          instanceType: i.type,
          pendingTime: iso(i.launchedAt).replace(/\.\d{3}Z$/, "Z"),
          privateIp: i.privateIp,
          region,
          version: "2017-09-30",
        },
        null,
        2,
      );
    if (!path.startsWith("meta-data/")) return undefined;
    const key = path.slice("meta-data/".length);
    if (key === "")
      return lines([
        ...Object.keys(md).filter((k) => md[k] !== undefined && !k.includes("/")),
        "placement/",
        ...(role ? ["iam/"] : []),
        ...(tags ? ["tags/"] : []),
      ]);
    if (key === "placement" || key === "placement/")
      return lines(["availability-zone", "availability-zone-id", "region"]);
    if (key in md) return md[key];
    if (tags && (key === "tags/instance" || key === "tags/instance/")) return lines(Object.keys(tags));
    if (tags && key.startsWith("tags/instance/")) return tags[key.slice("tags/instance/".length)];
    if (!role || !i.iamInstanceProfile) return undefined;
    if (key === "iam/info")
      return JSON.stringify(
        {
          Code: "Success",
          LastUpdated: iso(now).replace(/\.\d{3}Z$/, "Z"),
          InstanceProfileArn: i.iamInstanceProfile,
          InstanceProfileId: i.iamInstanceProfileId,
        },
        null,
        2,
      );
    if (key === "iam/security-credentials" || key === "iam/security-credentials/") return role;
    if (key === `iam/security-credentials/${role}`)
      return JSON.stringify(this.lookups.iam.instanceCredentials(i, now), null, 2);
    return undefined;
  }
}

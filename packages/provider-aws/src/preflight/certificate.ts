import type { ConfigIssue } from "@k3sinfra/core";
import { awsCall } from "../call.js";
import { hasAwsCode } from "../errors.js";
import type { PreflightCheck } from "./index.js";

const PATH = "loadBalancer.certificate";

/**
 * True when a certificate name covers the host name: equal (case-insensitive), or a wildcard `*.parent` for
 * exactly one label under `parent` — `*.example.com` covers `rancher.example.com`, neither `example.com`
 * nor `a.rancher.example.com` (https://docs.aws.amazon.com/acm/latest/userguide/acm-certificate.html).
 */
export const certificateCovers = (name: string, host: string): boolean => {
  const n = name.toLowerCase().replace(/\.$/, "");
  const h = host.toLowerCase().replace(/\.$/, "");
  if (!n.startsWith("*.")) return n === h;
  const dot = h.indexOf(".");
  return dot > 0 && h.slice(dot + 1) === n.slice(2);
};

/** What to do about a certificate in each status other than ISSUED (the model's CertificateStatus). */
const STATUS_FIX: Record<string, string> = {
  PENDING_VALIDATION:
    "finish its validation (create the DNS records ACM lists for it) and run again once it is ISSUED",
  EXPIRED: "renew it, or request a new certificate and use its ARN",
  INACTIVE: "it cannot be used; request a new certificate and use its ARN",
  REVOKED: "request a new certificate and use its ARN",
  FAILED: "request a new certificate and use its ARN",
  VALIDATION_TIMED_OUT: "request it again, and validate it within 72 hours",
};

/**
 * The L7 load balancer's certificate exists in this account and region, is ISSUED and covers the Rancher
 * host name (ACM DescribeCertificate: `Status`, `DomainName`, `SubjectAlternativeNames`;
 * https://docs.aws.amazon.com/acm/latest/APIReference/API_DescribeCertificate.html). Without this, the ALB's
 * HTTPS listener is refused only after the network, the datastore and the load balancer exist.
 */
export const certificateCheck: PreflightCheck = {
  path: PATH,
  async run(ctx) {
    const { config } = ctx;
    const arn = config.loadBalancer.certificate;
    // A missing or malformed ARN is a validation issue, reported before the preflight runs.
    if (!arn) return [];
    const host = config.rancher.hostname;
    const acm = await ctx.clients.acm();
    let cert: { DomainName?: string; SubjectAlternativeNames?: string[]; Status?: string } | undefined;
    try {
      const out = await awsCall("ACM DescribeCertificate", ctx.call, (o) =>
        acm.describeCertificate({ CertificateArn: arn }, o),
      );
      cert = out.Certificate;
    } catch (error) {
      if (!hasAwsCode(error, "ResourceNotFoundException", "InvalidArnException")) throw error;
    }
    if (!cert)
      return [
        {
          path: PATH,
          message: `no ACM certificate ${arn} in this account in ${config.region}: request one for ${host} in ${config.region} (aws acm request-certificate --domain-name ${host} --validation-method DNS --region ${config.region}) or import yours, and use its ARN`,
        },
      ];
    const issues: ConfigIssue[] = [];
    if (cert.Status !== "ISSUED")
      issues.push({
        path: PATH,
        message: `is ${cert.Status ?? "in an unknown state"}, not ISSUED: ${STATUS_FIX[cert.Status ?? ""] ?? "use an issued certificate"}`,
      });
    const names = [...new Set([cert.DomainName ?? "", ...(cert.SubjectAlternativeNames ?? [])])].filter(
      Boolean,
    );
    if (!names.some((n) => certificateCovers(n, host)))
      issues.push({
        path: PATH,
        message: `covers ${names.join(", ") || "no name"} but not rancher.hostname ${host}: use a certificate for ${host} (or *.${host.slice(host.indexOf(".") + 1)}), or change rancher.hostname`,
      });
    return issues;
  },
};

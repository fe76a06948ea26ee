import type { ConfigIssue } from "@k3sinfra/core";
import { awsCall } from "../call.js";
import { hasAwsCode } from "../errors.js";
import type { PreflightCheck } from "./index.js";

const dot = (name: string): string => `${name.toLowerCase().replace(/\.$/, "")}.`;

/**
 * The DNS zone exists (Route 53 GetHostedZone for `options.aws.hostedZoneId`, else ListHostedZonesByName),
 * and is public unless the load balancer is internal: a private zone answers only inside its VPCs, so an
 * internet-facing Rancher would have a name nobody outside resolves
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zones-private.html).
 */
export const dnsZoneCheck: PreflightCheck = {
  path: "dns.zone",
  async run(ctx) {
    const zone = ctx.config.dns.zone;
    const given = ctx.options.hostedZoneId;
    const r53 = await ctx.clients.route53();
    let found: { name: string; private: boolean } | undefined;
    if (given) {
      try {
        const out = await awsCall(`Route 53 GetHostedZone (${given})`, ctx.call, (o) =>
          r53.getHostedZone({ Id: given }, o),
        );
        found = { name: out.HostedZone?.Name ?? "", private: out.HostedZone?.Config?.PrivateZone === true };
      } catch (error) {
        if (!hasAwsCode(error, "NoSuchHostedZone", "InvalidInput")) throw error;
        return [
          {
            path: "options.aws.hostedZoneId",
            message: `no Route 53 hosted zone ${given} in this account: check the id (aws route53 list-hosted-zones), or remove it to use the public zone named ${zone}`,
          },
        ];
      }
      if (dot(found.name) !== dot(zone))
        return [
          {
            path: "options.aws.hostedZoneId",
            message: `is the zone ${found.name.replace(/\.$/, "")}, not dns.zone ${zone}`,
          },
        ];
    } else {
      // Zones are listed in name order starting at this name; keep exact matches.
      const out = await awsCall(`Route 53 ListHostedZonesByName (${zone})`, ctx.call, (o) =>
        r53.listHostedZonesByName({ DNSName: zone, MaxItems: 10 }, o),
      );
      const matches = (out.HostedZones ?? []).filter((z) => dot(z.Name ?? "") === dot(zone));
      const publics = matches.filter((z) => !z.Config?.PrivateZone);
      if (matches.length === 0)
        return [
          {
            path: "dns.zone",
            message: `no Route 53 hosted zone named ${zone} in this account: create it (aws route53 create-hosted-zone --name ${zone} --caller-reference $(date +%s)) or set options.aws.hostedZoneId`,
          },
        ];
      if (publics.length > 1)
        return [
          {
            path: "options.aws.hostedZoneId",
            message: `several public hosted zones are named ${zone}: say which one`,
          },
        ];
      found = { name: zone, private: publics.length === 0 };
    }
    const issues: ConfigIssue[] = [];
    if (found.private && (ctx.options.scheme ?? "internet-facing") === "internet-facing")
      issues.push({
        path: given ? "options.aws.hostedZoneId" : "dns.zone",
        message: `the hosted zone for ${zone} is private: only its VPCs resolve rancher.hostname, but the load balancer is internet-facing. Use a public hosted zone, or set options.aws.scheme: internal`,
      });
    return issues;
  },
};

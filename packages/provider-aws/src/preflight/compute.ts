import type { ConfigIssue } from "@k3sinfra/core";
import { awsCall, collectPages } from "../call.js";
import { hasAwsCode } from "../errors.js";
import { nodeInstanceType, resolveImage } from "../sizing.js";
import type { PreflightCheck, PreflightContext } from "./index.js";

const list = (items: readonly string[]): string => items.join(", ");

/** The node instance type and the config path it comes from, as the node service chooses it. */
export const chosenInstanceType = (ctx: PreflightContext): { type: string; path: string } | undefined => {
  const { config, options } = ctx;
  if (config.nodes.instanceType) return { type: config.nodes.instanceType, path: "nodes.instanceType" };
  if (options.instanceType) return { type: options.instanceType, path: "options.aws.instanceType" };
  const derived = nodeInstanceType(config.nodes.size);
  return derived ? { type: derived, path: "nodes.size" } : undefined;
};

/**
 * The region's zones (DescribeAvailabilityZones) and, for nodes, where the instance type is offered
 * (DescribeInstanceTypeOfferings by zone: a type that does not exist is offered nowhere, without an error;
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypeOfferings.html). The two
 * calls run together; a zone that does not exist is reported once, under `zones`.
 */
export const computeCheck: PreflightCheck = {
  path: "zones",
  async run(ctx) {
    const { config } = ctx;
    const ec2 = await ctx.clients.ec2();
    const chosen = ctx.roles.includes("nodes") ? chosenInstanceType(ctx) : undefined;
    const [zoneInfo, offered] = await Promise.all([
      awsCall("EC2 DescribeAvailabilityZones", ctx.call, (o) =>
        ec2.describeAvailabilityZones({ Filters: [{ Name: "region-name", Values: [config.region] }] }, o),
      ),
      chosen
        ? collectPages(
            (NextToken) =>
              awsCall(`EC2 DescribeInstanceTypeOfferings (${chosen.type})`, ctx.call, (o) =>
                ec2.describeInstanceTypeOfferings(
                  {
                    LocationType: "availability-zone",
                    Filters: [{ Name: "instance-type", Values: [chosen.type] }],
                    NextToken,
                  },
                  o,
                ),
              ),
            (page) => page.InstanceTypeOfferings,
            (page) => page.NextToken,
          )
        : Promise.resolve([]),
    ]);
    const issues: ConfigIssue[] = [];
    const known = new Set((zoneInfo.AvailabilityZones ?? []).map((z) => z.ZoneName ?? ""));
    const zones = config.zones ?? [];
    const missing = zones.filter((z) => !known.has(z));
    if (missing.length > 0)
      issues.push({
        path: "zones",
        message: `${list(missing)} ${missing.length === 1 ? "is" : "are"} not available to this account in ${config.region}; available: ${list([...known].sort())}`,
      });
    if (chosen) {
      const where = new Set(offered.map((o) => o.Location ?? ""));
      const lacking = zones.filter((z) => known.has(z) && !where.has(z));
      const what = chosen.path === "nodes.size" ? `maps to ${chosen.type}, which` : `'${chosen.type}'`;
      const fix =
        chosen.path === "nodes.size"
          ? "set nodes.instanceType to a type offered there"
          : "choose another type";
      if (where.size === 0)
        issues.push({
          path: chosen.path,
          message: `${what} is not an instance type EC2 offers in ${config.region}: check its spelling, or ${fix} (such as m6i.xlarge)`,
        });
      else if (lacking.length > 0)
        issues.push({
          path: chosen.path,
          message: `${what} is not offered in ${list(lacking)}; it is offered in ${list([...where].sort())}: choose zones among those, or ${fix}`,
        });
    }
    return issues;
  },
};

/**
 * The image resolves: a portable name or `resolve:ssm:` through SSM GetParameter (the public parameter AMI
 * ids are published under; https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters-ami.html),
 * an `ami-…` id through DescribeImages.
 */
export const imageCheck: PreflightCheck = {
  path: "nodes.image",
  async run(ctx) {
    const { config, options } = ctx;
    const path = options.amiId ? "options.aws.amiId" : "nodes.image";
    const image = resolveImage(config.nodes.image, options.amiId, options.rootDeviceName);
    // An unknown portable name is a validation issue, reported before the preflight runs.
    if (!image) return [];
    if (image.imageId.startsWith("resolve:ssm:")) {
      const name = image.imageId.slice("resolve:ssm:".length);
      const ssm = await ctx.clients.ssm();
      try {
        await awsCall(`SSM GetParameter (${name})`, ctx.call, (o) => ssm.getParameter({ Name: name }, o));
        return [];
      } catch (error) {
        if (!hasAwsCode(error, "ParameterNotFound", "ParameterVersionNotFound", "InvalidKeyId")) throw error;
        return [
          {
            path,
            message: `the SSM parameter ${name} does not exist in ${config.region}, so no AMI can be resolved from it: check its spelling, or give an AMI id (ami-…) in options.aws.amiId`,
          },
        ];
      }
    }
    const ec2 = await ctx.clients.ec2();
    try {
      const out = await awsCall(`EC2 DescribeImages (${image.imageId})`, ctx.call, (o) =>
        ec2.describeImages({ ImageIds: [image.imageId] }, o),
      );
      if ((out.Images ?? []).length > 0) return [];
    } catch (error) {
      if (!hasAwsCode(error, "InvalidAMIID.NotFound", "InvalidAMIID.Malformed", "InvalidAMIID.Unavailable"))
        throw error;
    }
    return [
      {
        path,
        message: `${image.imageId} is not an AMI this account can launch in ${config.region}: AMIs are regional, so copy it to ${config.region} or give an AMI id of that region`,
      },
    ];
  },
};

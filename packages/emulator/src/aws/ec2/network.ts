/**
 * EC2 networking: availability zones, VPCs and subnets.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Welcome.html
 */
import type { QueryOp } from "../kernel/call.js";
import { ACCOUNT_ID, cidrContains, cidrOverlaps, newId, parseCidr } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { bool, str, strList } from "../kernel/query.js";
import type { Subnet, Vpc } from "../kernel/shapes.js";
import { applyFilters, paginate, readFilters, readTagSpecs, tagsFor } from "./filters.js";
import { subnetOut, vpcOut } from "./output.js";
import type { Ec2Service } from "./service.js";

export const networkOps = (svc: Ec2Service): Record<string, QueryOp> => ({
  DescribeAvailabilityZones: (input, call) => {
    const names = strList(input, "ZoneName");
    const ids = strList(input, "ZoneId");
    let zones = svc.azs(call.region);
    for (const n of names)
      if (!zones.some((z) => z.name === n))
        throw new AwsError("InvalidParameterValue", `Invalid availability zone: [${n}]`);
    if (names.length) zones = zones.filter((z) => names.includes(z.name));
    if (ids.length) zones = zones.filter((z) => ids.includes(z.id));
    const filtered = applyFilters(
      zones,
      readFilters(input),
      {
        "zone-name": (z) => z.name,
        "zone-id": (z) => z.id,
        "region-name": () => call.region,
        state: () => "available",
        "zone-type": () => "availability-zone",
        "opt-in-status": () => "opt-in-not-required",
      },
      () => ({}),
    );
    return {
      availabilityZoneInfo: filtered.map((z) => ({
        optInStatus: "opt-in-not-required",
        groupName: call.region,
        networkBorderGroup: call.region,
        zoneType: "availability-zone",
        zoneName: z.name,
        zoneId: z.id,
        zoneState: "available",
        regionName: call.region,
        messageSet: [],
        groupLongName: call.region,
      })),
    };
  },

  DescribeVpcs: (input, call) => {
    const r = svc.region(call.region);
    const ids = strList(input, "VpcId");
    for (const id of ids) svc.getVpc(call.region, id);
    let vpcs = Object.values(r.vpcs);
    if (ids.length) vpcs = vpcs.filter((v) => ids.includes(v.id));
    vpcs = applyFilters(
      vpcs,
      readFilters(input),
      {
        "vpc-id": (v) => v.id,
        "is-default": (v) => String(v.isDefault),
        "cidr-block": (v) => v.cidr,
        cidr: (v) => v.cidr,
        "cidr-block-association.cidr-block": (v) => v.cidr,
        state: () => "available",
        "owner-id": () => ACCOUNT_ID,
      },
      (v) => v.tags,
    );
    const { page, nextToken } = paginate(vpcs, input);
    return { vpcSet: page.map((v) => vpcOut(v)), nextToken };
  },

  DescribeSubnets: (input, call) => {
    const r = svc.region(call.region);
    const ids = strList(input, "SubnetId");
    for (const id of ids) svc.getSubnet(call.region, id);
    let subnets = Object.values(r.subnets);
    if (ids.length) subnets = subnets.filter((s) => ids.includes(s.id));
    subnets = applyFilters(
      subnets,
      readFilters(input),
      {
        "subnet-id": (s) => s.id,
        "vpc-id": (s) => s.vpcId,
        "availability-zone": (s) => s.az,
        "availability-zone-id": (s) => s.azId,
        "default-for-az": (s) => String(s.defaultForAz),
        defaultForAz: (s) => String(s.defaultForAz),
        "map-public-ip-on-launch": (s) => String(s.mapPublicIp),
        "cidr-block": (s) => s.cidr,
        cidr: (s) => s.cidr,
        cidrBlock: (s) => s.cidr,
        state: () => "available",
        "owner-id": () => ACCOUNT_ID,
      },
      (s) => s.tags,
    );
    const { page, nextToken } = paginate(subnets, input);
    return { subnetSet: page.map((s) => subnetOut(svc, call.region, s, call.now)), nextToken };
  },

  CreateVpc: (input, call) => {
    const cidr = str(input, "CidrBlock");
    if (!cidr)
      throw new AwsError("MissingParameter", "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.");
    const c = parseCidr(cidr);
    // VPC IPv4 blocks are /16 to /28 (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html).
    if (!c || c.prefix < 16 || c.prefix > 28)
      throw new AwsError("InvalidVpc.Range", `The CIDR '${cidr}' is invalid.`);
    const tags = tagsFor(readTagSpecs(input), "vpc");
    const r = svc.region(call.region);
    const id = newId(svc.ctx.rng, "vpc");
    const vpc: Vpc = {
      id,
      cidr,
      isDefault: false,
      seeded: false,
      tags,
      createdAt: call.now,
      tenancy: str(input, "InstanceTenancy") ?? "default",
    };
    r.vpcs[id] = vpc;
    svc.addDefaultGroup(r, id, newId(svc.ctx.rng, "sg"), false);
    return { vpc: { ...vpcOut(vpc), state: "pending" } };
  },

  DeleteVpc: (input, call) => {
    const id = str(input, "VpcId")!;
    const r = svc.region(call.region);
    svc.getVpc(call.region, id);
    const deps =
      Object.values(r.subnets).some((s) => s.vpcId === id) ||
      Object.values(r.groups).some((g) => g.vpcId === id && g.name !== "default");
    // https://docs.aws.amazon.com/vpc/latest/userguide/delete-vpc.html
    if (deps)
      throw new AwsError("DependencyViolation", `The vpc '${id}' has dependencies and cannot be deleted.`);
    for (const g of Object.values(r.groups)) if (g.vpcId === id) delete r.groups[g.id];
    delete r.vpcs[id];
    return { return: true };
  },

  CreateSubnet: (input, call) => {
    const vpc = svc.getVpc(call.region, str(input, "VpcId")!);
    const cidr = str(input, "CidrBlock");
    if (!cidr) throw new AwsError("MissingParameter", "The request must contain the parameter cidrBlock");
    const c = parseCidr(cidr);
    // Subnet blocks are /16 to /28 and inside the VPC (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html).
    if (!c || c.prefix < 16 || c.prefix > 28 || !cidrContains(vpc.cidr, cidr)) {
      throw new AwsError("InvalidSubnet.Range", `The CIDR '${cidr}' is invalid.`);
    }
    const r = svc.region(call.region);
    if (Object.values(r.subnets).some((s) => s.vpcId === vpc.id && cidrOverlaps(s.cidr, cidr))) {
      throw new AwsError("InvalidSubnet.Conflict", `The CIDR '${cidr}' conflicts with another subnet`);
    }
    const azs = svc.azs(call.region);
    const azName = str(input, "AvailabilityZone");
    const azId = str(input, "AvailabilityZoneId");
    const az = azName
      ? azs.find((z) => z.name === azName)
      : azId
        ? azs.find((z) => z.id === azId)
        : azs[svc.ctx.rng.int(azs.length)];
    if (!az)
      throw new AwsError(
        "InvalidParameterValue",
        `Value (${azName ?? azId}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${azs.map((z) => z.name).join(", ")}.`,
      );
    const id = newId(svc.ctx.rng, "subnet");
    const s: Subnet = {
      id,
      vpcId: vpc.id,
      cidr,
      az: az.name,
      azId: az.id,
      defaultForAz: false,
      mapPublicIp: false,
      seeded: false,
      tags: tagsFor(readTagSpecs(input), "subnet"),
      createdAt: call.now,
    };
    r.subnets[id] = s;
    return { subnet: subnetOut(svc, call.region, s, call.now) };
  },

  DeleteSubnet: (input, call) => {
    const s = svc.getSubnet(call.region, str(input, "SubnetId")!);
    if (
      svc.liveInstances(call.region, call.now).some((i) => i.subnetId === s.id) ||
      svc.lookups.network.subnetInUse(call.region, s.id, call.now)
    ) {
      throw new AwsError(
        "DependencyViolation",
        `The subnet '${s.id}' has dependencies and cannot be deleted.`,
      );
    }
    delete svc.region(call.region).subnets[s.id];
    return { return: true };
  },

  ModifySubnetAttribute: (input, call) => {
    const s = svc.getSubnet(call.region, str(input, "SubnetId")!);
    const v = bool(input, "MapPublicIpOnLaunch.Value");
    if (v !== undefined) s.mapPublicIp = v;
    return { return: true };
  },
});

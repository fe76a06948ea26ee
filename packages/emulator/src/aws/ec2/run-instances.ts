/**
 * EC2 RunInstances: idempotency by ClientToken, placement, addresses, volumes, tags, instance profile.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
 */

import { createHash } from "node:crypto";
import type { Call } from "../kernel/call.js";
import { INSTANCE_TYPES, seededImages } from "../kernel/catalog.js";
import { newId } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { bool, int, objList, str, strList, type Tree } from "../kernel/query.js";
import type { Instance, Reservation, Subnet } from "../kernel/shapes.js";
import { readTagSpecs, tagsFor } from "./filters.js";
import { launchProfile } from "./iam.js";
import { reservationOut } from "./output.js";
import { type Ec2Service, ID_PATTERNS } from "./service.js";

export function runInstances(svc: Ec2Service, input: Tree, call: Call): object {
  const r = svc.region(call.region);
  const rng = svc.ctx.rng;
  const token = str(input, "ClientToken") ?? "";
  // ClientToken: up to 64 ASCII characters (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html).
  if (token.length > 64 || !/^[\x20-\x7e]*$/.test(token)) {
    throw new AwsError(
      "InvalidParameterValue",
      `Value (${token}) for parameter clientToken is invalid. Parameter must be less than or equal to 64 characters`,
    );
  }
  const paramsHash = hashParams(input);
  if (token) {
    const resId = r.tokens[token];
    const res = resId ? r.reservations[resId] : undefined;
    if (res) {
      // Same token + same parameters: the original reservation; different parameters: IdempotentParameterMismatch.
      // https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html
      if (res.paramsHash !== paramsHash) {
        throw new AwsError(
          "IdempotentParameterMismatch",
          "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).",
        );
      }
      return reservationOut(svc, call.region, res, call.now);
    }
  }

  // MinCount and MaxCount are required (RunInstances reference).
  const minCount = int(input, "MinCount");
  const maxCount = int(input, "MaxCount");
  if (minCount === undefined)
    throw new AwsError("MissingParameter", "The request must contain the parameter MinCount");
  if (maxCount === undefined)
    throw new AwsError("MissingParameter", "The request must contain the parameter MaxCount");
  if (minCount < 1 || maxCount < 1)
    throw new AwsError("InvalidParameterValue", "Value for parameter MinCount/MaxCount must be at least 1");
  if (minCount > maxCount)
    throw new AwsError(
      "InvalidParameterValue",
      `MinCount (${minCount}) must be less than or equal to MaxCount (${maxCount})`,
    );

  // Instance type.
  const type = str(input, "InstanceType") ?? "m1.small";
  const typeInfo = INSTANCE_TYPES[type];
  if (!typeInfo) throw new AwsError("InvalidParameterValue", `Invalid value '${type}' for InstanceType.`);

  // Image, possibly as resolve:ssm:<public parameter>
  // (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-systems-manager-parameter-to-find-AMI.html).
  const images = seededImages(call.region);
  let imageId = str(input, "ImageId");
  if (!imageId) throw new AwsError("MissingParameter", "The request must contain the parameter ImageId");
  if (imageId.startsWith("resolve:ssm:")) {
    const param = imageId.slice("resolve:ssm:".length).replace(/:\d+$/, "");
    const im = images.find((x) => x.ssmParameters.includes(param));
    if (!im)
      throw new AwsError(
        "InvalidParameterValue",
        `Invalid value for parameter ImageId: the SSM parameter '${param}' could not be resolved.`,
      );
    imageId = im.id;
  }
  if (!ID_PATTERNS.ami!.test(imageId))
    throw new AwsError("InvalidAMIID.Malformed", `Invalid id: "${imageId}" (expecting "ami-...")`);
  const image = images.find((x) => x.id === imageId);
  if (!image) throw new AwsError("InvalidAMIID.NotFound", `The image id '[${imageId}]' does not exist`);
  if (image.architecture !== typeInfo.arch) {
    throw new AwsError(
      "InvalidParameterValue",
      `The architecture '${typeInfo.arch}' of the specified instance type does not match the architecture '${image.architecture}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again.`,
    );
  }

  // UserData must be base64 (the SDK does not encode it), at most 16 KB decoded
  // (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html).
  const userData = str(input, "UserData");
  if (userData !== undefined) {
    const compact = userData.replace(/\s/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
      throw new AwsError("InvalidParameterValue", "Invalid BASE64 encoding of user data.");
    }
    if (Buffer.from(compact, "base64").length > 16384)
      throw new AwsError("InvalidParameterValue", "User data is limited to 16384 bytes");
  }

  // Network: either SubnetId + SecurityGroupIds, or NetworkInterfaces (not both).
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
  const nis = objList(input, "NetworkInterface");
  let subnetId = str(input, "SubnetId");
  let groupIds = strList(input, "SecurityGroupId");
  const groupNames = strList(input, "SecurityGroup");
  let associatePublic: boolean | undefined;
  let wantedIp = str(input, "PrivateIpAddress");
  if (nis.length) {
    if (subnetId)
      throw new AwsError(
        "InvalidParameterCombination",
        "Network interfaces and an instance-level subnet ID may not be specified on the same request",
      );
    if (groupIds.length || groupNames.length) {
      throw new AwsError(
        "InvalidParameterCombination",
        "Network interfaces and an instance-level security groups may not be specified on the same request",
      );
    }
    const primary = nis.find((n) => (str(n, "DeviceIndex") ?? "0") === "0") ?? nis[0]!;
    if (str(primary, "NetworkInterfaceId"))
      throw new AwsError(
        "InvalidParameterValue",
        "Attaching existing network interfaces is not supported by the emulator",
      );
    subnetId = str(primary, "SubnetId");
    groupIds = strList(primary, "SecurityGroupId");
    associatePublic = bool(primary, "AssociatePublicIpAddress");
    wantedIp = str(primary, "PrivateIpAddress") ?? wantedIp;
  }
  let subnet: Subnet;
  if (subnetId) subnet = svc.getSubnet(call.region, subnetId);
  else {
    const def = svc.defaultVpc(call.region);
    if (!def)
      throw new AwsError(
        "VPCIdNotSpecified",
        "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.",
      );
    const wantedAz = str(input, "Placement.AvailabilityZone");
    const candidates = Object.values(r.subnets).filter((s) => s.vpcId === def.id && s.defaultForAz);
    const found = wantedAz ? candidates.find((s) => s.az === wantedAz) : candidates[0];
    if (!found) throw new AwsError("InvalidParameterValue", `Invalid availability zone: [${wantedAz}]`);
    subnet = found;
  }
  const placementAz = str(input, "Placement.AvailabilityZone");
  if (placementAz && placementAz !== subnet.az) {
    throw new AwsError(
      "InvalidParameterValue",
      `Value (${placementAz}) for parameter availabilityZone is invalid. Subnet '${subnet.id}' is in the availability zone ${subnet.az}`,
    );
  }
  for (const n of groupNames) {
    const g = Object.values(r.groups).find((x) => x.name === n && x.vpcId === subnet.vpcId);
    if (!g)
      throw new AwsError(
        "InvalidGroup.NotFound",
        `The security group '${n}' does not exist in VPC '${subnet.vpcId}'`,
      );
    groupIds.push(g.id);
  }
  for (const g of groupIds) {
    const sg = svc.getGroup(call.region, g);
    if (sg.vpcId !== subnet.vpcId) {
      throw new AwsError(
        "InvalidParameter",
        `Security group ${g} and subnet ${subnet.id} belong to different networks.`,
      );
    }
  }
  if (groupIds.length === 0) {
    const def = Object.values(r.groups).find((x) => x.vpcId === subnet.vpcId && x.name === "default");
    if (def) groupIds = [def.id];
  }
  groupIds = [...new Set(groupIds)];
  if (wantedIp && maxCount > 1)
    throw new AwsError(
      "InvalidParameterCombination",
      "Cannot specify a private IP address when launching more than one instance",
    );

  // Metadata options (IMDSv2 with HttpTokens=required): https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceMetadataOptionsRequest.html
  const hopLimit = int(input, "MetadataOptions.HttpPutResponseHopLimit") ?? 1;
  if (hopLimit < 1 || hopLimit > 64)
    throw new AwsError("InvalidParameterValue", "The HTTP PUT response hop limit must be between 1 and 64");
  const metadata = {
    httpTokens: str(input, "MetadataOptions.HttpTokens") ?? "required",
    httpEndpoint: str(input, "MetadataOptions.HttpEndpoint") ?? "enabled",
    hopLimit: hopLimit,
    tags: str(input, "MetadataOptions.InstanceMetadataTags") ?? "disabled",
    ipv6: str(input, "MetadataOptions.HttpProtocolIpv6") ?? "disabled",
  };

  // Block devices (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EbsBlockDevice.html).
  const specs = readTagSpecs(input);
  const instanceTags = tagsFor(specs, "instance");
  const volumeTags = tagsFor(specs, "volume");
  for (const s of specs) {
    if (
      !["instance", "volume", "network-interface", "spot-instances-request", "elastic-gpu"].includes(s.type)
    ) {
      throw new AwsError(
        "InvalidParameterValue",
        `'${s.type}' is not a valid taggable resource type for this operation.`,
      );
    }
  }
  const bdms = objList(input, "BlockDeviceMapping").map((b) => {
    const deviceName = str(b, "DeviceName");
    if (!deviceName)
      throw new AwsError(
        "MissingParameter",
        "The request must contain the parameter BlockDeviceMapping.DeviceName",
      );
    const volumeType = str(b, "Ebs.VolumeType") ?? "gp3";
    const size = int(b, "Ebs.VolumeSize") ?? 8;
    const limits: Record<string, [number, number]> = {
      gp2: [1, 16384],
      gp3: [1, 16384],
      io1: [4, 16384],
      io2: [4, 65536],
      st1: [125, 16384],
      sc1: [125, 16384],
      standard: [1, 1024],
    };
    const [lo, hi] = limits[volumeType] ?? [1, 16384];
    if (size < lo || size > hi) {
      throw new AwsError(
        "InvalidParameterValue",
        `Volume of size ${size}GB is ${size < lo ? "smaller" : "larger"} than ${size < lo ? "minimum" : "maximum"} allowed for ${volumeType} (${lo}-${hi}GiB).`,
      );
    }
    const iops = int(b, "Ebs.Iops");
    const throughput = int(b, "Ebs.Throughput");
    if (throughput !== undefined && volumeType !== "gp3")
      throw new AwsError("InvalidParameterCombination", "Throughput can only be specified for gp3 volumes");
    if (throughput !== undefined && (throughput < 125 || throughput > 2000))
      throw new AwsError(
        "InvalidParameterValue",
        "Throughput must be between 125 and 2000 MiB/s for gp3 volumes",
      );
    if (iops !== undefined && volumeType === "gp3" && (iops < 3000 || iops > 80000))
      throw new AwsError("InvalidParameterValue", "IOPS must be between 3000 and 80000 for gp3 volumes");
    return {
      deviceName,
      size,
      type: volumeType,
      encrypted: bool(b, "Ebs.Encrypted") ?? false,
      deleteOnTermination: bool(b, "Ebs.DeleteOnTermination") ?? true,
      iops,
      throughput,
      kmsKeyId: str(b, "Ebs.KmsKeyId"),
    };
  });
  if (!bdms.some((b) => b.deviceName === image.rootDeviceName)) {
    bdms.unshift({
      deviceName: image.rootDeviceName,
      size: 8,
      type: "gp3",
      encrypted: false,
      deleteOnTermination: true,
      iops: undefined,
      throughput: undefined,
      kmsKeyId: undefined,
    });
  }
  const kmsWithoutEncryption = bdms.find((b) => b.kmsKeyId && !b.encrypted);
  if (kmsWithoutEncryption)
    throw new AwsError(
      "InvalidParameterDependency",
      "The parameter KmsKeyId requires the parameter Encrypted to be set.",
    );

  // The profile must exist in IAM and have propagated (iam.ts).
  const profile = launchProfile(svc.lookups.iam, input, call.now);
  const mapPublic = associatePublic ?? subnet.mapPublicIp;

  const res: Reservation = { id: newId(rng, "r"), instanceIds: [], clientToken: token, paramsHash };
  for (let n = 0; n < maxCount; n++) {
    const id = newId(rng, "i");
    const inst: Instance = {
      id,
      reservationId: res.id,
      imageId: image.id,
      type,
      subnetId: subnet.id,
      vpcId: subnet.vpcId,
      az: subnet.az,
      azId: subnet.azId,
      privateIp: svc.allocateIp(call.region, subnet, call.now, n === 0 ? wantedIp : undefined),
      publicIp: mapPublic ? svc.newPublicIp() : undefined,
      groupIds,
      keyName: str(input, "KeyName"),
      clientToken: token,
      userData,
      iamInstanceProfile: profile?.arn,
      iamInstanceProfileId: profile?.id,
      metadata,
      volumes: bdms.map((b) => ({
        id: newId(rng, "vol"),
        deviceName: b.deviceName,
        size: b.size,
        type: b.type,
        encrypted: b.encrypted,
        deleteOnTermination: b.deleteOnTermination,
        iops: b.iops,
        throughput: b.throughput,
        kmsKeyId: b.kmsKeyId,
        tags: { ...volumeTags },
      })),
      eniId: newId(rng, "eni"),
      mac: `0e:${rng.hex(2)}:${rng.hex(2)}:${rng.hex(2)}:${rng.hex(2)}:${rng.hex(2)}`,
      launchIndex: n,
      ebsOptimized: bool(input, "EbsOptimized") ?? false,
      monitoring: bool(input, "Monitoring.Enabled") ?? false,
      disableApiTermination: bool(input, "DisableApiTermination") ?? false,
      tags: { ...instanceTags },
      launchedAt: call.now,
    };
    r.instances[id] = inst;
    res.instanceIds.push(id);
  }
  r.reservations[res.id] = res;
  if (token) r.tokens[token] = res.id;
  return reservationOut(svc, call.region, res, call.now);
}

/** A stable hash of a RunInstances request's parameters, without the token itself. */
function hashParams(input: Tree): string {
  const flat: string[] = [];
  const walk = (v: unknown, prefix: string): void => {
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${prefix}.${i + 1}`);
    } else if (v && typeof v === "object")
      for (const k of Object.keys(v).sort())
        walk((v as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k);
    else if (v !== undefined) flat.push(`${prefix}=${String(v)}`);
  };
  const { ClientToken: _t, Action: _a, Version: _v, ...rest } = input;
  walk(rest, "");
  return createHash("sha256").update(flat.join("&")).digest("hex");
}

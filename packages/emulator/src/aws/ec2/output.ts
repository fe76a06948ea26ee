/**
 * EC2 response shapes of VPCs, subnets, security groups, rules, instances and reservations.
 */
import { INSTANCE_TYPES, seededImages } from "../kernel/catalog.js";
import { ACCOUNT_ID, iso, parseCidr, stableHex } from "../kernel/common.js";
import { lastStart } from "../kernel/power.js";
import type { Instance, Reservation, SecurityGroup, SgRule, Subnet, Vpc } from "../kernel/shapes.js";
import { tagItems } from "./filters.js";
import { STATE_CODES } from "./instance-state.js";
import type { Ec2Service } from "./service.js";

export function vpcOut(v: Vpc) {
  return {
    cidrBlock: v.cidr,
    dhcpOptionsId: `dopt-0${stableHex(`dopt:${v.id}`, 16)}`,
    state: "available",
    vpcId: v.id,
    ownerId: ACCOUNT_ID,
    instanceTenancy: v.tenancy,
    cidrBlockAssociationSet: [
      {
        cidrBlock: v.cidr,
        associationId: `vpc-cidr-assoc-0${stableHex(v.id, 16)}`,
        cidrBlockState: { state: "associated" },
      },
    ],
    isDefault: v.isDefault,
    tagSet: tagItems(v.tags),
  };
}

export function subnetOut(svc: Ec2Service, region: string, s: Subnet, now: number) {
  const c = parseCidr(s.cidr)!;
  const used = svc.liveInstances(region, now).filter((i) => i.subnetId === s.id).length;
  return {
    subnetId: s.id,
    subnetArn: `arn:aws:ec2:${region}:${ACCOUNT_ID}:subnet/${s.id}`,
    state: "available",
    vpcId: s.vpcId,
    cidrBlock: s.cidr,
    availableIpAddressCount: 2 ** (32 - c.prefix) - 5 - used,
    availabilityZone: s.az,
    availabilityZoneId: s.azId,
    defaultForAz: s.defaultForAz,
    mapPublicIpOnLaunch: s.mapPublicIp,
    ownerId: ACCOUNT_ID,
    assignIpv6AddressOnCreation: false,
    ipv6CidrBlockAssociationSet: [],
    tagSet: tagItems(s.tags),
    privateDnsNameOptionsOnLaunch: {
      hostnameType: "ip-name",
      enableResourceNameDnsARecord: false,
      enableResourceNameDnsAAAARecord: false,
    },
  };
}

export function permissionsOut(g: SecurityGroup, egress: boolean) {
  const groups = new Map<string, SgRule[]>();
  for (const rule of g.rules.filter((x) => x.egress === egress)) {
    const k = `${rule.protocol}|${rule.from}|${rule.to}`;
    groups.set(k, [...(groups.get(k) ?? []), rule]);
  }
  return [...groups.values()].map((rules) => {
    const r0 = rules[0]!;
    const ports = r0.protocol === "-1" ? {} : { fromPort: r0.from, toPort: r0.to };
    return {
      ipProtocol: r0.protocol,
      ...ports,
      groups: rules
        .filter((r) => r.groupId)
        .map((r) => ({ description: r.description, userId: ACCOUNT_ID, groupId: r.groupId })),
      ipRanges: rules.filter((r) => r.cidr).map((r) => ({ description: r.description, cidrIp: r.cidr })),
      ipv6Ranges: rules
        .filter((r) => r.cidrV6)
        .map((r) => ({ description: r.description, cidrIpv6: r.cidrV6 })),
      prefixListIds: [],
    };
  });
}

export function groupOut(region: string, g: SecurityGroup) {
  return {
    groupDescription: g.description,
    groupName: g.name,
    ipPermissions: permissionsOut(g, false),
    ownerId: ACCOUNT_ID,
    groupId: g.id,
    ipPermissionsEgress: permissionsOut(g, true),
    tagSet: tagItems(g.tags),
    vpcId: g.vpcId,
    securityGroupArn: `arn:aws:ec2:${region}:${ACCOUNT_ID}:security-group/${g.id}`,
  };
}

export function ruleOut(g: SecurityGroup, r: SgRule) {
  return {
    securityGroupRuleId: r.id,
    groupId: g.id,
    groupOwnerId: ACCOUNT_ID,
    isEgress: r.egress,
    ipProtocol: r.protocol,
    fromPort: r.from,
    toPort: r.to,
    cidrIpv4: r.cidr,
    cidrIpv6: r.cidrV6,
    referencedGroupInfo: r.groupId ? { groupId: r.groupId, userId: ACCOUNT_ID } : undefined,
    description: r.description,
    tagSet: [],
  };
}

export function instanceOut(svc: Ec2Service, region: string, i: Instance, now: number) {
  const state = svc.instanceState(i, now);
  const r = svc.region(region);
  const image = seededImages(region).find((im) => im.id === i.imageId);
  const dnsSuffix = region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`;
  const privateDns = state === "terminated" ? "" : `ip-${i.privateIp.replace(/\./g, "-")}.${dnsSuffix}`;
  const showPublic = state === "running" && i.publicIp;
  const publicDns = showPublic
    ? `ec2-${i.publicIp!.replace(/\./g, "-")}.${region === "us-east-1" ? "compute-1" : `${region}.compute`}.amazonaws.com`
    : "";
  const groups = i.groupIds.map((id) => ({ groupId: id, groupName: r.groups[id]?.name ?? "" }));
  const live = state !== "terminated";
  return {
    instanceId: i.id,
    imageId: i.imageId,
    instanceState: { code: STATE_CODES[state], name: state },
    privateDnsName: privateDns,
    dnsName: publicDns,
    reason:
      i.terminatedAt !== undefined
        ? `User initiated (${iso(i.terminatedAt).replace("T", " ").slice(0, 19)} GMT)`
        : i.power?.action === "stop"
          ? `User initiated (${iso(i.power.at).replace("T", " ").slice(0, 19)} GMT)`
          : "",
    keyName: i.keyName,
    amiLaunchIndex: i.launchIndex,
    productCodes: [],
    instanceType: i.type,
    launchTime: iso(lastStart(i)),
    placement: { availabilityZoneId: i.azId, groupName: "", tenancy: "default", availabilityZone: i.az },
    monitoring: { state: i.monitoring ? "enabled" : "disabled" },
    subnetId: live ? i.subnetId : undefined,
    vpcId: live ? i.vpcId : undefined,
    privateIpAddress: live ? i.privateIp : undefined,
    ipAddress: showPublic ? i.publicIp : undefined,
    stateReason:
      i.terminatedAt !== undefined || i.power?.action === "stop"
        ? {
            code: "Client.UserInitiatedShutdown",
            message: "Client.UserInitiatedShutdown: User initiated shutdown",
          }
        : state === "pending"
          ? { code: "pending", message: "pending" }
          : undefined,
    architecture: INSTANCE_TYPES[i.type]?.arch ?? image?.architecture ?? "x86_64",
    rootDeviceType: "ebs",
    rootDeviceName: image?.rootDeviceName ?? "/dev/sda1",
    blockDeviceMapping: live
      ? i.volumes.map((v) => ({
          deviceName: v.deviceName,
          ebs: {
            volumeId: v.id,
            status: state === "pending" ? "attaching" : "attached",
            attachTime: iso(i.launchedAt),
            deleteOnTermination: v.deleteOnTermination,
          },
        }))
      : [],
    virtualizationType: "hvm",
    clientToken: i.clientToken,
    tagSet: tagItems(i.tags),
    groupSet: groups,
    sourceDestCheck: true,
    hypervisor: "xen",
    iamInstanceProfile: i.iamInstanceProfile
      ? {
          arn: i.iamInstanceProfile,
          id: i.iamInstanceProfileId ?? `AIPA${stableHex(i.iamInstanceProfile, 17).toUpperCase()}`,
        }
      : undefined,
    networkInterfaceSet: live
      ? [
          {
            attachment: {
              attachTime: iso(i.launchedAt),
              attachmentId: `eni-attach-0${stableHex(i.eniId, 16)}`,
              deleteOnTermination: true,
              deviceIndex: 0,
              status: "attached",
              networkCardIndex: 0,
            },
            description: "",
            groupSet: groups,
            macAddress: i.mac,
            networkInterfaceId: i.eniId,
            ownerId: ACCOUNT_ID,
            privateDnsName: privateDns,
            privateIpAddress: i.privateIp,
            sourceDestCheck: true,
            status: "in-use",
            subnetId: i.subnetId,
            vpcId: i.vpcId,
            interfaceType: "interface",
            association: showPublic
              ? { ipOwnerId: "amazon", publicDnsName: publicDns, publicIp: i.publicIp }
              : undefined,
            privateIpAddressesSet: [
              { primary: true, privateDnsName: privateDns, privateIpAddress: i.privateIp },
            ],
          },
        ]
      : [],
    ebsOptimized: i.ebsOptimized,
    enaSupport: true,
    cpuOptions: { coreCount: Math.max(1, (INSTANCE_TYPES[i.type]?.vcpu ?? 2) / 2), threadsPerCore: 2 },
    capacityReservationSpecification: { capacityReservationPreference: "open" },
    hibernationOptions: { configured: false },
    metadataOptions: {
      state: state === "pending" ? "pending" : "applied",
      httpTokens: i.metadata.httpTokens,
      httpPutResponseHopLimit: i.metadata.hopLimit,
      httpEndpoint: i.metadata.httpEndpoint,
      httpProtocolIpv6: i.metadata.ipv6,
      instanceMetadataTags: i.metadata.tags,
    },
    enclaveOptions: { enabled: false },
    bootMode: "uefi-preferred",
    platformDetails: "Linux/UNIX",
    usageOperation: "RunInstances",
    usageOperationUpdateTime: iso(i.launchedAt),
    privateDnsNameOptions: {
      hostnameType: "ip-name",
      enableResourceNameDnsARecord: false,
      enableResourceNameDnsAAAARecord: false,
    },
    maintenanceOptions: { autoRecovery: "default" },
    currentInstanceBootMode: "legacy-bios",
  };
}

export function reservationOut(
  svc: Ec2Service,
  region: string,
  res: Reservation,
  now: number,
  only?: Set<string>,
) {
  const r = svc.region(region);
  const instances = res.instanceIds
    .map((id) => r.instances[id])
    .filter((i): i is Instance => i !== undefined && (!only || only.has(i.id)));
  const groupIds = instances[0]?.groupIds ?? [];
  return {
    reservationId: res.id,
    ownerId: ACCOUNT_ID,
    groupSet: groupIds.map((id) => ({ groupId: id, groupName: r.groups[id]?.name ?? "" })),
    instancesSet: instances.map((i) => instanceOut(svc, region, i, now)),
  };
}

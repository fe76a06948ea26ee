/**
 * Amazon EC2 (protocol `ec2`, API 2016-11-15): availability zones, default and custom VPCs/subnets,
 * security groups and rules, tags, AMIs, instances. API reference:
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Welcome.html
 */
import { createHash } from "node:crypto";
import {
  ACCOUNT_ID,
  type Az,
  cidrContains,
  cidrOverlaps,
  elapsed,
  intToIp,
  ipToInt,
  iso,
  matchTagFilters,
  newId,
  parseCidr,
  regionAzs,
  stableHex,
  type Tags,
  wildcard,
} from "./common.js";
import { launchProfile } from "./ec2-iam.js";
import { AwsError } from "./errors.js";
import type { AwsCloud, Call } from "./index.js";
import {
  lastStart,
  POWER_DURATIONS,
  type PowerChange,
  powerOps,
  powerState,
  STATE_CODES,
} from "./instance-state.js";
import { bool, int, objList, str, strList, type Tree } from "./query.js";
import type { HealthOverride } from "./target-health.js";

// ---------------------------------------------------------------- state

export interface Vpc {
  id: string;
  cidr: string;
  isDefault: boolean;
  seeded: boolean;
  tags: Tags;
  createdAt: number;
  tenancy: string;
}

export interface Subnet {
  id: string;
  vpcId: string;
  cidr: string;
  az: string;
  azId: string;
  defaultForAz: boolean;
  mapPublicIp: boolean;
  seeded: boolean;
  tags: Tags;
  createdAt: number;
}

export interface SgRule {
  id: string;
  egress: boolean;
  protocol: string;
  from: number;
  to: number;
  cidr?: string;
  cidrV6?: string;
  groupId?: string;
  description?: string;
}

export interface SecurityGroup {
  id: string;
  name: string;
  description: string;
  vpcId: string;
  seeded: boolean;
  tags: Tags;
  rules: SgRule[];
  createdAt: number;
}

export interface Volume {
  id: string;
  deviceName: string;
  size: number;
  type: string;
  encrypted: boolean;
  deleteOnTermination: boolean;
  iops?: number;
  throughput?: number;
  kmsKeyId?: string;
  tags: Tags;
}

export interface Instance {
  id: string;
  reservationId: string;
  imageId: string;
  type: string;
  subnetId: string;
  vpcId: string;
  az: string;
  azId: string;
  privateIp: string;
  publicIp?: string;
  groupIds: string[];
  keyName?: string;
  clientToken: string;
  userData?: string;
  /** The instance profile's ARN and id (checked against IAM at launch, ec2-iam.ts). */
  iamInstanceProfile?: string;
  iamInstanceProfileId?: string;
  metadata: { httpTokens: string; httpEndpoint: string; hopLimit: number; tags: string; ipv6: string };
  volumes: Volume[];
  eniId: string;
  mac: string;
  launchIndex: number;
  ebsOptimized: boolean;
  monitoring: boolean;
  disableApiTermination: boolean;
  tags: Tags;
  launchedAt: number;
  terminatedAt?: number;
  /** The last StopInstances/StartInstances (instance-state.ts). */
  power?: PowerChange;
  /** Test back door: the instance's load balancer health checks fail (target-health.ts). */
  health?: HealthOverride;
}

export interface Reservation {
  id: string;
  instanceIds: string[];
  clientToken: string;
  paramsHash: string;
}

export interface Ec2Region {
  vpcs: Record<string, Vpc>;
  subnets: Record<string, Subnet>;
  groups: Record<string, SecurityGroup>;
  instances: Record<string, Instance>;
  reservations: Record<string, Reservation>;
  /** ClientToken -> reservation id (RunInstances idempotency). */
  tokens: Record<string, string>;
}

// ---------------------------------------------------------------- static tables

/** Durations (seconds at time scale 1). */
export const EC2_DURATIONS = {
  pending: POWER_DURATIONS.pending,
  shuttingDown: POWER_DURATIONS.shuttingDown,
  terminatedVisible: 3600,
};

interface TypeInfo {
  vcpu: number;
  memMiB: number;
  arch: "x86_64" | "arm64";
}

/** A small table of real instance types (https://aws.amazon.com/ec2/instance-types/). */
export const INSTANCE_TYPES: Record<string, TypeInfo> = (() => {
  const out: Record<string, TypeInfo> = {};
  const sizes: [string, number][] = [
    ["nano", 2],
    ["micro", 2],
    ["small", 2],
    ["medium", 2],
    ["large", 2],
    ["xlarge", 4],
    ["2xlarge", 8],
  ];
  const burst: Record<string, number> = {
    nano: 512,
    micro: 1024,
    small: 2048,
    medium: 4096,
    large: 8192,
    xlarge: 16384,
    "2xlarge": 32768,
  };
  for (const fam of ["t3", "t3a", "t4g"]) {
    for (const [s, v] of sizes)
      out[`${fam}.${s}`] = { vcpu: v, memMiB: burst[s]!, arch: fam === "t4g" ? "arm64" : "x86_64" };
  }
  const big: [string, number][] = [
    ["large", 2],
    ["xlarge", 4],
    ["2xlarge", 8],
    ["4xlarge", 16],
    ["8xlarge", 32],
  ];
  const memPerVcpu: Record<string, number> = { m: 4096, c: 2048, r: 8192 };
  for (const fam of [
    "m5",
    "m5a",
    "m6i",
    "m6a",
    "m7i",
    "m6g",
    "m7g",
    "c5",
    "c6i",
    "c6a",
    "c7i",
    "c6g",
    "c7g",
    "r5",
    "r6i",
    "r7i",
    "r6g",
  ]) {
    for (const [s, v] of big) {
      out[`${fam}.${s}`] = {
        vcpu: v,
        memMiB: v * memPerVcpu[fam[0]!]!,
        arch: fam.endsWith("g") ? "arm64" : "x86_64",
      };
    }
  }
  return out;
})();

export interface Image {
  id: string;
  name: string;
  description: string;
  ownerId: string;
  ownerAlias?: string;
  architecture: "x86_64" | "arm64";
  rootDeviceName: string;
  creationDate: string;
  ssmParameters: string[];
}

const CANONICAL = "099720109477";
const DEBIAN = "136693071363";

/** The seeded public AMIs (same ids for every seed; they differ per region like real AMIs). */
export function seededImages(region: string): Image[] {
  const mk = (
    name: string,
    description: string,
    owner: string,
    arch: "x86_64" | "arm64",
    root: string,
    ssm: string[],
  ): Image => ({
    id: `ami-0${stableHex(`ami:${region}:${name}`, 16)}`,
    name,
    description,
    ownerId: owner,
    architecture: arch,
    rootDeviceName: root,
    creationDate: "2025-10-01T00:00:00.000Z",
    ssmParameters: ssm,
  });
  const ubuntu = "/aws/service/canonical/ubuntu/server";
  return [
    mk(
      "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20251001",
      "Canonical, Ubuntu, 24.04, amd64 noble image",
      CANONICAL,
      "x86_64",
      "/dev/sda1",
      [
        `${ubuntu}/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id`,
        `${ubuntu}/noble/stable/current/amd64/hvm/ebs-gp3/ami-id`,
      ],
    ),
    mk(
      "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20251001",
      "Canonical, Ubuntu, 24.04, arm64 noble image",
      CANONICAL,
      "arm64",
      "/dev/sda1",
      [
        `${ubuntu}/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id`,
        `${ubuntu}/noble/stable/current/arm64/hvm/ebs-gp3/ami-id`,
      ],
    ),
    mk(
      "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20251001",
      "Canonical, Ubuntu, 22.04, amd64 jammy image",
      CANONICAL,
      "x86_64",
      "/dev/sda1",
      [
        `${ubuntu}/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id`,
        `${ubuntu}/jammy/stable/current/amd64/hvm/ebs-gp2/ami-id`,
      ],
    ),
    mk("debian-12-amd64-20251001-2250", "Debian 12 (20251001-2250)", DEBIAN, "x86_64", "/dev/xvda", [
      "/aws/service/debian/release/12/latest/amd64",
      "/aws/service/debian/release/bookworm/latest/amd64",
    ]),
    mk("debian-12-arm64-20251001-2250", "Debian 12 (20251001-2250)", DEBIAN, "arm64", "/dev/xvda", [
      "/aws/service/debian/release/12/latest/arm64",
      "/aws/service/debian/release/bookworm/latest/arm64",
    ]),
  ];
}

// ---------------------------------------------------------------- helpers

const tagItems = (tags: Tags): { key: string; value: string }[] =>
  Object.entries(tags).map(([key, value]) => ({ key, value }));

interface Filter {
  name: string;
  values: string[];
}

function readFilters(input: Tree): Filter[] {
  return objList(input, "Filter").map((f) => ({ name: str(f, "Name") ?? "", values: strList(f, "Value") }));
}

/** Apply EC2 filters: each filter must match (AND); any of its values may match (OR). */
function applyFilters<T>(
  items: T[],
  filters: Filter[],
  fields: Record<string, (item: T) => (string | undefined)[] | string | undefined>,
  tagsOf: (item: T) => Tags,
): T[] {
  for (const f of filters) {
    if (!f.name.startsWith("tag:") && f.name !== "tag-key" && f.name !== "tag-value" && !fields[f.name]) {
      // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Filtering.html
      throw new AwsError("InvalidParameterValue", `The filter '${f.name}' is invalid`);
    }
  }
  return items.filter((item) =>
    filters.every((f) => {
      const t = matchTagFilters(tagsOf(item), f.name, f.values);
      if (t !== undefined) return t;
      const raw = fields[f.name]!(item);
      const vals = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => v !== undefined);
      return vals.some((v) => f.values.some((p) => wildcard(p, v)));
    }),
  );
}

/** EC2 NextToken/MaxResults paging over an already filtered list. */
function paginate<T>(items: T[], input: Tree, min = 5, max = 1000): { page: T[]; nextToken?: string } {
  const maxResults = int(input, "MaxResults");
  const token = str(input, "NextToken");
  let start = 0;
  if (token) {
    const decoded = Number(Buffer.from(token, "base64url").toString("utf8").replace(/^off:/, ""));
    if (!Number.isInteger(decoded) || decoded < 0)
      throw new AwsError("InvalidParameterValue", `Invalid value '${token}' for NextToken`);
    start = decoded;
  }
  if (maxResults === undefined) return { page: items.slice(start) };
  if (maxResults < min || maxResults > max) {
    throw new AwsError(
      "InvalidParameterValue",
      `Value ( ${maxResults} ) for parameter maxResults is invalid. Parameter must be between ${min} and ${max}.`,
    );
  }
  const page = items.slice(start, start + maxResults);
  const next =
    start + maxResults < items.length
      ? Buffer.from(`off:${start + maxResults}`).toString("base64url")
      : undefined;
  return next ? { page, nextToken: next } : { page };
}

function normProtocol(p: string): string {
  const v = p.toLowerCase();
  if (v === "6") return "tcp";
  if (v === "17") return "udp";
  if (v === "1") return "icmp";
  if (v === "all") return "-1";
  return v;
}

function readTagSpecs(input: Tree): { type: string; tags: Tags }[] {
  return objList(input, "TagSpecification").map((ts) => {
    const tags: Tags = {};
    for (const t of objList(ts, "Tag")) tags[str(t, "Key") ?? ""] = str(t, "Value") ?? "";
    return { type: str(ts, "ResourceType") ?? "", tags };
  });
}

/** EC2 tag rules: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions */
function checkEc2Tags(tags: Tags): void {
  if (Object.keys(tags).length > 50)
    throw new AwsError("TagLimitExceeded", "The maximum number of tags per resource (50) was exceeded.");
  for (const [k, v] of Object.entries(tags)) {
    if (k.length === 0) throw new AwsError("InvalidParameterValue", "Tag key cannot be empty");
    if ([...k].length > 128)
      throw new AwsError("InvalidParameterValue", `Tag key exceeds the maximum length of 128 characters`);
    if ([...v].length > 256)
      throw new AwsError("InvalidParameterValue", `Tag value exceeds the maximum length of 256 characters`);
    if (k.toLowerCase().startsWith("aws:")) {
      throw new AwsError(
        "InvalidParameterValue",
        `Value ( ${k} ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use`,
      );
    }
  }
}

function tagsFor(specs: { type: string; tags: Tags }[], type: string): Tags {
  const out: Tags = {};
  for (const s of specs) if (s.type === type) Object.assign(out, s.tags);
  checkEc2Tags(out);
  return out;
}

const ID_PATTERNS: Record<string, RegExp> = {
  i: /^i-([0-9a-f]{8}|[0-9a-f]{17})$/,
  sg: /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/,
  subnet: /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/,
  vpc: /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/,
  ami: /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/,
};

// ---------------------------------------------------------------- service

export class Ec2Service {
  constructor(private readonly cloud: AwsCloud) {}

  private get scale(): number {
    return this.cloud.ctx.timeScale;
  }

  /** The region's state, seeding the default VPC, one default subnet per AZ and the default SG. */
  region(region: string): Ec2Region {
    const all = this.cloud.state.ec2;
    let r = all[region];
    if (!r) {
      r = { vpcs: {}, subnets: {}, groups: {}, instances: {}, reservations: {}, tokens: {} };
      all[region] = r;
      this.seedDefaults(region, r);
    }
    return r;
  }

  /** Default VPC 172.31.0.0/16 with a /20 default subnet per AZ (https://docs.aws.amazon.com/vpc/latest/userguide/default-vpc.html). */
  private seedDefaults(region: string, r: Ec2Region): void {
    const vpcId = `vpc-0${stableHex(`vpc:${region}:default`, 16)}`;
    r.vpcs[vpcId] = {
      id: vpcId,
      cidr: "172.31.0.0/16",
      isDefault: true,
      seeded: true,
      tags: {},
      createdAt: 0,
      tenancy: "default",
    };
    regionAzs(region).forEach((az, i) => {
      const id = `subnet-0${stableHex(`subnet:${region}:${az.name}`, 16)}`;
      r.subnets[id] = {
        id,
        vpcId,
        cidr: `172.31.${i * 16}.0/20`,
        az: az.name,
        azId: az.id,
        defaultForAz: true,
        mapPublicIp: true,
        seeded: true,
        tags: {},
        createdAt: 0,
      };
    });
    this.addDefaultGroup(r, vpcId, `sg-0${stableHex(`sg:${region}:${vpcId}:default`, 16)}`, true);
  }

  private addDefaultGroup(r: Ec2Region, vpcId: string, id: string, seeded: boolean): void {
    const rid = (n: string) => `sgr-0${stableHex(`${id}:${n}`, 16)}`;
    r.groups[id] = {
      id,
      name: "default",
      description: "default VPC security group",
      vpcId,
      seeded,
      tags: {},
      createdAt: 0,
      rules: [
        { id: rid("in"), egress: false, protocol: "-1", from: -1, to: -1, groupId: id },
        { id: rid("out"), egress: true, protocol: "-1", from: -1, to: -1, cidr: "0.0.0.0/0" },
      ],
    };
  }

  instanceState(i: Instance, now: number): string {
    return powerState(i, now, this.scale);
  }

  /** Instances still visible to Describe calls (terminated ones stay about an hour). */
  visibleInstances(region: string, now: number): Instance[] {
    const r = this.region(region);
    const out: Instance[] = [];
    for (const i of Object.values(r.instances)) {
      if (i.terminatedAt !== undefined) {
        const shownUntil =
          i.terminatedAt + (EC2_DURATIONS.shuttingDown + EC2_DURATIONS.terminatedVisible) * 1000 * this.scale;
        if (now >= shownUntil) {
          // Forgotten for good (its reservation and client token stay, for idempotent replays).
          delete r.instances[i.id];
          continue;
        }
      }
      out.push(i);
    }
    return out;
  }

  /** Live = not (yet) terminated: what holds IPs, security groups and subnets. */
  liveInstances(region: string, now: number): Instance[] {
    return Object.values(this.region(region).instances).filter(
      (i) => this.instanceState(i, now) !== "terminated",
    );
  }

  getInstance(region: string, id: string, now: number): Instance | undefined {
    return this.visibleInstances(region, now).find((i) => i.id === id);
  }

  getSubnet(region: string, id: string): Subnet {
    if (!ID_PATTERNS.subnet!.test(id)) throw new AwsError("InvalidSubnetID.Malformed", `Invalid id: "${id}"`);
    const s = this.region(region).subnets[id];
    if (!s) throw new AwsError("InvalidSubnetID.NotFound", `The subnet ID '${id}' does not exist`);
    return s;
  }

  getGroup(region: string, id: string): SecurityGroup {
    if (!ID_PATTERNS.sg!.test(id))
      throw new AwsError("InvalidGroupId.Malformed", `Invalid id: "${id}" (expecting "sg-...")`);
    const g = this.region(region).groups[id];
    if (!g) throw new AwsError("InvalidGroup.NotFound", `The security group '${id}' does not exist`);
    return g;
  }

  getVpc(region: string, id: string): Vpc {
    if (!ID_PATTERNS.vpc!.test(id)) throw new AwsError("InvalidVpcID.Malformed", `Invalid id: "${id}"`);
    const v = this.region(region).vpcs[id];
    if (!v) throw new AwsError("InvalidVpcID.NotFound", `The vpc ID '${id}' does not exist`);
    return v;
  }

  defaultVpc(region: string): Vpc | undefined {
    return Object.values(this.region(region).vpcs).find((v) => v.isDefault);
  }

  azs(region: string): Az[] {
    return regionAzs(region);
  }

  newPublicIp(): string {
    const rng = this.cloud.ctx.rng;
    const first = [3, 18, 34, 44, 52, 54][rng.int(6)]!;
    return `${first}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`;
  }

  private allocateIp(region: string, subnet: Subnet, now: number, wanted?: string): string {
    const c = parseCidr(subnet.cidr)!;
    const size = 2 ** (32 - c.prefix);
    const used = new Set(
      this.liveInstances(region, now)
        .filter((i) => i.subnetId === subnet.id)
        .map((i) => i.privateIp),
    );
    if (wanted) {
      // The first four and the last address of a subnet are reserved (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html).
      const n = ipToInt(wanted);
      if (!cidrContains(subnet.cidr, `${wanted}/32`) || n - c.base < 4 || n - c.base >= size - 1) {
        throw new AwsError(
          "InvalidParameterValue",
          `Address ${wanted} does not fall within the subnet's address range`,
        );
      }
      if (used.has(wanted)) throw new AwsError("InvalidIPAddress.InUse", `Address ${wanted} is in use.`);
      return wanted;
    }
    const rng = this.cloud.ctx.rng;
    for (let attempt = 0; attempt < 64; attempt++) {
      const ip = intToIp(c.base + 4 + rng.int(size - 5));
      if (!used.has(ip)) return ip;
    }
    for (let off = 4; off < size - 1; off++) {
      const ip = intToIp(c.base + off);
      if (!used.has(ip)) return ip;
    }
    throw new AwsError(
      "InsufficientFreeAddressesInSubnet",
      `There are not enough free addresses in subnet '${subnet.id}' to satisfy the requested number of instances.`,
    );
  }

  /** Any taggable resource by id (CreateTags/DeleteTags). */
  private taggable(region: string, id: string, now: number): { tags: Tags; type: string } {
    const r = this.region(region);
    if (id.startsWith("i-")) {
      const i = this.getInstance(region, id, now);
      if (!i) throw new AwsError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
      return { tags: i.tags, type: "instance" };
    }
    if (id.startsWith("sg-")) return { tags: this.getGroup(region, id).tags, type: "security-group" };
    if (id.startsWith("subnet-")) return { tags: this.getSubnet(region, id).tags, type: "subnet" };
    if (id.startsWith("vpc-")) return { tags: this.getVpc(region, id).tags, type: "vpc" };
    if (id.startsWith("vol-")) {
      for (const i of Object.values(r.instances)) {
        const v = i.volumes.find((x) => x.id === id);
        if (v) return { tags: v.tags, type: "volume" };
      }
      throw new AwsError("InvalidVolume.NotFound", `The volume '${id}' does not exist.`);
    }
    throw new AwsError("InvalidID", `The ID '${id}' is not valid`);
  }

  // ------------------------------------------------------------ output shapes

  private vpcOut(v: Vpc) {
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

  private subnetOut(region: string, s: Subnet, now: number) {
    const c = parseCidr(s.cidr)!;
    const used = this.liveInstances(region, now).filter((i) => i.subnetId === s.id).length;
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

  private permissionsOut(g: SecurityGroup, egress: boolean) {
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

  private groupOut(region: string, g: SecurityGroup) {
    return {
      groupDescription: g.description,
      groupName: g.name,
      ipPermissions: this.permissionsOut(g, false),
      ownerId: ACCOUNT_ID,
      groupId: g.id,
      ipPermissionsEgress: this.permissionsOut(g, true),
      tagSet: tagItems(g.tags),
      vpcId: g.vpcId,
      securityGroupArn: `arn:aws:ec2:${region}:${ACCOUNT_ID}:security-group/${g.id}`,
    };
  }

  private ruleOut(g: SecurityGroup, r: SgRule) {
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

  private instanceOut(region: string, i: Instance, now: number) {
    const state = this.instanceState(i, now);
    const r = this.region(region);
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

  private reservationOut(region: string, res: Reservation, now: number, only?: Set<string>) {
    const r = this.region(region);
    const instances = res.instanceIds
      .map((id) => r.instances[id])
      .filter((i): i is Instance => i !== undefined && (!only || only.has(i.id)));
    const groupIds = instances[0]?.groupIds ?? [];
    return {
      reservationId: res.id,
      ownerId: ACCOUNT_ID,
      groupSet: groupIds.map((id) => ({ groupId: id, groupName: r.groups[id]?.name ?? "" })),
      instancesSet: instances.map((i) => this.instanceOut(region, i, now)),
    };
  }

  // ------------------------------------------------------------ operations

  readonly ops: Record<string, (input: Tree, call: Call) => object | undefined> = {
    ...powerOps(this),
    DescribeAvailabilityZones: (input, call) => {
      const names = strList(input, "ZoneName");
      const ids = strList(input, "ZoneId");
      let zones = this.azs(call.region);
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
      const r = this.region(call.region);
      const ids = strList(input, "VpcId");
      for (const id of ids) this.getVpc(call.region, id);
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
      return { vpcSet: page.map((v) => this.vpcOut(v)), nextToken };
    },

    DescribeSubnets: (input, call) => {
      const r = this.region(call.region);
      const ids = strList(input, "SubnetId");
      for (const id of ids) this.getSubnet(call.region, id);
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
      return { subnetSet: page.map((s) => this.subnetOut(call.region, s, call.now)), nextToken };
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
      const r = this.region(call.region);
      const id = newId(this.cloud.ctx.rng, "vpc");
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
      this.addDefaultGroup(r, id, newId(this.cloud.ctx.rng, "sg"), false);
      return { vpc: { ...this.vpcOut(vpc), state: "pending" } };
    },

    DeleteVpc: (input, call) => {
      const id = str(input, "VpcId")!;
      const r = this.region(call.region);
      this.getVpc(call.region, id);
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
      const vpc = this.getVpc(call.region, str(input, "VpcId")!);
      const cidr = str(input, "CidrBlock");
      if (!cidr) throw new AwsError("MissingParameter", "The request must contain the parameter cidrBlock");
      const c = parseCidr(cidr);
      // Subnet blocks are /16 to /28 and inside the VPC (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html).
      if (!c || c.prefix < 16 || c.prefix > 28 || !cidrContains(vpc.cidr, cidr)) {
        throw new AwsError("InvalidSubnet.Range", `The CIDR '${cidr}' is invalid.`);
      }
      const r = this.region(call.region);
      if (Object.values(r.subnets).some((s) => s.vpcId === vpc.id && cidrOverlaps(s.cidr, cidr))) {
        throw new AwsError("InvalidSubnet.Conflict", `The CIDR '${cidr}' conflicts with another subnet`);
      }
      const azs = this.azs(call.region);
      const azName = str(input, "AvailabilityZone");
      const azId = str(input, "AvailabilityZoneId");
      const az = azName
        ? azs.find((z) => z.name === azName)
        : azId
          ? azs.find((z) => z.id === azId)
          : azs[this.cloud.ctx.rng.int(azs.length)];
      if (!az)
        throw new AwsError(
          "InvalidParameterValue",
          `Value (${azName ?? azId}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${azs.map((z) => z.name).join(", ")}.`,
        );
      const id = newId(this.cloud.ctx.rng, "subnet");
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
      return { subnet: this.subnetOut(call.region, s, call.now) };
    },

    DeleteSubnet: (input, call) => {
      const s = this.getSubnet(call.region, str(input, "SubnetId")!);
      if (
        this.liveInstances(call.region, call.now).some((i) => i.subnetId === s.id) ||
        this.cloud.subnetInUse(call.region, s.id, call.now)
      ) {
        throw new AwsError(
          "DependencyViolation",
          `The subnet '${s.id}' has dependencies and cannot be deleted.`,
        );
      }
      delete this.region(call.region).subnets[s.id];
      return { return: true };
    },

    ModifySubnetAttribute: (input, call) => {
      const s = this.getSubnet(call.region, str(input, "SubnetId")!);
      const v = bool(input, "MapPublicIpOnLaunch.Value");
      if (v !== undefined) s.mapPublicIp = v;
      return { return: true };
    },

    CreateSecurityGroup: (input, call) => {
      const name = str(input, "GroupName")!;
      const description = str(input, "GroupDescription")!;
      // Name/description: up to 255 chars, a-zA-Z0-9 spaces ._-:/()#,@[]+=&;{}!$*; name can't start with sg-
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
      const allowed = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;
      if (name.length > 255 || !allowed.test(name))
        throw new AwsError("InvalidParameterValue", `Invalid security group name '${name}'`);
      if (name.toLowerCase().startsWith("sg-"))
        throw new AwsError("InvalidParameterValue", "Group names may not be in the format sg-*");
      if (description.length > 255 || !allowed.test(description)) {
        throw new AwsError(
          "InvalidParameterValue",
          "Invalid security group description. Valid descriptions are strings less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*",
        );
      }
      const r = this.region(call.region);
      const vpcIdIn = str(input, "VpcId");
      const vpc = vpcIdIn ? this.getVpc(call.region, vpcIdIn) : this.defaultVpc(call.region);
      if (!vpc) throw new AwsError("VPCIdNotSpecified", "No default VPC for this user");
      if (name === "default")
        throw new AwsError("InvalidGroup.Reserved", "The security group 'default' is reserved");
      // Names are unique per VPC, case-insensitively.
      if (
        Object.values(r.groups).some((g) => g.vpcId === vpc.id && g.name.toLowerCase() === name.toLowerCase())
      ) {
        throw new AwsError(
          "InvalidGroup.Duplicate",
          `The security group '${name}' already exists for VPC '${vpc.id}'`,
        );
      }
      const id = newId(this.cloud.ctx.rng, "sg");
      const tags = tagsFor(readTagSpecs(input), "security-group");
      // A new group allows all outbound traffic (https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html).
      r.groups[id] = {
        id,
        name,
        description,
        vpcId: vpc.id,
        seeded: false,
        tags,
        createdAt: call.now,
        rules: [
          {
            id: newId(this.cloud.ctx.rng, "sgr"),
            egress: true,
            protocol: "-1",
            from: -1,
            to: -1,
            cidr: "0.0.0.0/0",
          },
        ],
      };
      return {
        groupId: id,
        tagSet: tagItems(tags),
        securityGroupArn: `arn:aws:ec2:${call.region}:${ACCOUNT_ID}:security-group/${id}`,
      };
    },

    DescribeSecurityGroups: (input, call) => {
      const r = this.region(call.region);
      const ids = strList(input, "GroupId");
      const names = strList(input, "GroupName");
      for (const id of ids) this.getGroup(call.region, id);
      let groups = Object.values(r.groups);
      if (ids.length) groups = groups.filter((g) => ids.includes(g.id));
      if (names.length) {
        const def = this.defaultVpc(call.region);
        for (const n of names) {
          if (!groups.some((g) => g.name === n && g.vpcId === def?.id)) {
            throw new AwsError(
              "InvalidGroup.NotFound",
              `The security group '${n}' does not exist in default VPC '${def?.id ?? "none"}'`,
            );
          }
        }
        groups = groups.filter((g) => names.includes(g.name) && g.vpcId === def?.id);
      }
      groups = applyFilters(
        groups,
        readFilters(input),
        {
          "group-name": (g) => g.name,
          "group-id": (g) => g.id,
          "vpc-id": (g) => g.vpcId,
          description: (g) => g.description,
          "owner-id": () => ACCOUNT_ID,
          "ip-permission.group-id": (g) => g.rules.filter((x) => !x.egress).map((x) => x.groupId),
          "ip-permission.cidr": (g) => g.rules.filter((x) => !x.egress).map((x) => x.cidr),
          "ip-permission.from-port": (g) => g.rules.filter((x) => !x.egress).map((x) => String(x.from)),
          "ip-permission.to-port": (g) => g.rules.filter((x) => !x.egress).map((x) => String(x.to)),
          "ip-permission.protocol": (g) => g.rules.filter((x) => !x.egress).map((x) => x.protocol),
        },
        (g) => g.tags,
      );
      const { page, nextToken } = paginate(groups, input);
      return { securityGroupInfo: page.map((g) => this.groupOut(call.region, g)), nextToken };
    },

    DescribeSecurityGroupRules: (input, call) => {
      const r = this.region(call.region);
      const ids = strList(input, "SecurityGroupRuleId");
      let pairs = Object.values(r.groups).flatMap((g) => g.rules.map((rule) => ({ g, rule })));
      if (ids.length) pairs = pairs.filter((p) => ids.includes(p.rule.id));
      pairs = applyFilters(
        pairs,
        readFilters(input),
        { "group-id": (p) => p.g.id, "security-group-rule-id": (p) => p.rule.id },
        () => ({}),
      );
      const { page, nextToken } = paginate(pairs, input);
      return { securityGroupRuleSet: page.map((p) => this.ruleOut(p.g, p.rule)), nextToken };
    },

    AuthorizeSecurityGroupIngress: (input, call) => this.authorize(input, call, false),
    AuthorizeSecurityGroupEgress: (input, call) => this.authorize(input, call, true),
    RevokeSecurityGroupIngress: (input, call) => this.revoke(input, call, false),
    RevokeSecurityGroupEgress: (input, call) => this.revoke(input, call, true),

    DeleteSecurityGroup: (input, call) => {
      const r = this.region(call.region);
      const id = str(input, "GroupId");
      const name = str(input, "GroupName");
      let g: SecurityGroup | undefined;
      if (id) g = this.getGroup(call.region, id);
      else if (name) {
        const def = this.defaultVpc(call.region);
        g = Object.values(r.groups).find((x) => x.name === name && x.vpcId === def?.id);
        if (!g)
          throw new AwsError(
            "InvalidGroup.NotFound",
            `The security group '${name}' does not exist in default VPC '${def?.id ?? "none"}'`,
          );
      } else
        throw new AwsError("MissingParameter", "The request must contain the parameter groupName or groupId");
      if (g.name === "default")
        throw new AwsError(
          "CannotDelete",
          `the specified group: "${g.id}" name: "default" cannot be deleted by a user`,
        );
      // A group still attached to a network interface (instance, load balancer, DB instance) or referenced by
      // another group's rule can't be deleted (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html).
      const gid = g.id;
      const usedByInstance = this.liveInstances(call.region, call.now).some((i) => i.groupIds.includes(gid));
      const referenced = Object.values(r.groups).some(
        (o) => o.id !== gid && o.rules.some((rule) => rule.groupId === gid),
      );
      if (usedByInstance || referenced || this.cloud.groupInUse(call.region, gid, call.now)) {
        throw new AwsError("DependencyViolation", `resource ${gid} has a dependent object`);
      }
      delete r.groups[gid];
      return { return: true, groupId: gid };
    },

    CreateTags: (input, call) => {
      const ids = strList(input, "ResourceId");
      const tags: Tags = {};
      for (const t of objList(input, "Tag")) tags[str(t, "Key") ?? ""] = str(t, "Value") ?? "";
      const targets = ids.map((id) => this.taggable(call.region, id, call.now));
      for (const t of targets) checkEc2Tags({ ...t.tags, ...tags });
      for (const t of targets) Object.assign(t.tags, tags);
      return { return: true };
    },

    DeleteTags: (input, call) => {
      const ids = strList(input, "ResourceId");
      const tagList = objList(input, "Tag");
      const targets = ids.map((id) => this.taggable(call.region, id, call.now));
      for (const t of targets) {
        if (tagList.length === 0) {
          for (const k of Object.keys(t.tags)) delete t.tags[k];
          continue;
        }
        for (const tag of tagList) {
          const k = str(tag, "Key") ?? "";
          const v = str(tag, "Value");
          // With a value, only a matching tag is deleted (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteTags.html).
          if (v === undefined || t.tags[k] === v) delete t.tags[k];
        }
      }
      return { return: true };
    },

    DescribeTags: (input, call) => {
      const r = this.region(call.region);
      type Row = { resourceId: string; resourceType: string; key: string; value: string };
      const rows: Row[] = [];
      const push = (id: string, type: string, tags: Tags) => {
        for (const [key, value] of Object.entries(tags))
          rows.push({ resourceId: id, resourceType: type, key, value });
      };
      for (const v of Object.values(r.vpcs)) push(v.id, "vpc", v.tags);
      for (const s of Object.values(r.subnets)) push(s.id, "subnet", s.tags);
      for (const g of Object.values(r.groups)) push(g.id, "security-group", g.tags);
      for (const i of this.visibleInstances(call.region, call.now)) {
        push(i.id, "instance", i.tags);
        for (const v of i.volumes) push(v.id, "volume", v.tags);
      }
      const filtered = applyFilters(
        rows,
        readFilters(input),
        {
          "resource-id": (x) => x.resourceId,
          "resource-type": (x) => x.resourceType,
          key: (x) => x.key,
          value: (x) => x.value,
        },
        (x) => ({ [x.key]: x.value }),
      );
      const { page, nextToken } = paginate(filtered, input);
      return { tagSet: page, nextToken };
    },

    DescribeImages: (input, call) => {
      const ids = strList(input, "ImageId");
      const owners = strList(input, "Owner");
      let images = seededImages(call.region);
      for (const id of ids) {
        if (!ID_PATTERNS.ami!.test(id))
          throw new AwsError("InvalidAMIID.Malformed", `Invalid id: "${id}" (expecting "ami-...")`);
        if (!images.some((im) => im.id === id))
          throw new AwsError("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
      }
      if (ids.length) images = images.filter((im) => ids.includes(im.id));
      if (owners.length) {
        images = images.filter((im) =>
          owners.some((o) => o === im.ownerId || (o === "amazon" && false) || o === im.ownerAlias),
        );
      }
      images = applyFilters(
        images,
        readFilters(input),
        {
          name: (im) => im.name,
          "image-id": (im) => im.id,
          "owner-id": (im) => im.ownerId,
          architecture: (im) => im.architecture,
          state: () => "available",
          "root-device-type": () => "ebs",
          "virtualization-type": () => "hvm",
          "is-public": () => "true",
          "image-type": () => "machine",
          description: (im) => im.description,
        },
        () => ({}),
      );
      const { page, nextToken } = paginate(images, input);
      return {
        imagesSet: page.map((im) => ({
          imageId: im.id,
          imageLocation: `${im.ownerId}/${im.name}`,
          imageState: "available",
          imageOwnerId: im.ownerId,
          creationDate: im.creationDate,
          isPublic: true,
          architecture: im.architecture,
          imageType: "machine",
          name: im.name,
          description: im.description,
          rootDeviceType: "ebs",
          rootDeviceName: im.rootDeviceName,
          blockDeviceMapping: [
            {
              deviceName: im.rootDeviceName,
              ebs: {
                snapshotId: `snap-0${stableHex(im.id, 16)}`,
                volumeSize: 8,
                deleteOnTermination: true,
                volumeType: "gp3",
                encrypted: false,
              },
            },
          ],
          virtualizationType: "hvm",
          hypervisor: "xen",
          enaSupport: true,
          sriovNetSupport: "simple",
          platformDetails: "Linux/UNIX",
          usageOperation: "RunInstances",
          bootMode: "uefi-preferred",
          deprecationTime: "2027-10-01T00:00:00.000Z",
        })),
        nextToken,
      };
    },

    RunInstances: (input, call) => this.runInstances(input, call),

    DescribeInstances: (input, call) => {
      const ids = strList(input, "InstanceId");
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html (MaxResults can't be combined with InstanceIds)
      if (ids.length && str(input, "MaxResults") !== undefined) {
        throw new AwsError(
          "InvalidParameterCombination",
          "The parameter instancesSet cannot be used with the parameter maxResults",
        );
      }
      let instances = this.visibleInstances(call.region, call.now);
      if (ids.length) {
        for (const id of ids)
          if (!ID_PATTERNS.i!.test(id))
            throw new AwsError("InvalidInstanceID.Malformed", `Invalid id: "${id}"`);
        const missing = ids.filter((id) => !instances.some((i) => i.id === id));
        if (missing.length === 1)
          throw new AwsError("InvalidInstanceID.NotFound", `The instance ID '${missing[0]}' does not exist`);
        if (missing.length > 1)
          throw new AwsError(
            "InvalidInstanceID.NotFound",
            `The instance IDs '${missing.join(", ")}' do not exist`,
          );
        instances = instances.filter((i) => ids.includes(i.id));
      }
      instances = this.filterInstances(instances, readFilters(input), call);
      // Paginate over reservations (MaxResults 5-1000).
      const r = this.region(call.region);
      const byRes = new Map<string, Set<string>>();
      for (const i of instances)
        byRes.set(i.reservationId, (byRes.get(i.reservationId) ?? new Set()).add(i.id));
      const reservations = [...byRes.keys()].map((id) => r.reservations[id]!).filter(Boolean);
      const { page, nextToken } = paginate(reservations, input);
      return {
        reservationSet: page.map((res) => this.reservationOut(call.region, res, call.now, byRes.get(res.id))),
        nextToken,
      };
    },

    DescribeInstanceStatus: (input, call) => {
      const ids = strList(input, "InstanceId");
      const all = bool(input, "IncludeAllInstances") ?? false;
      let instances = this.visibleInstances(call.region, call.now);
      if (ids.length) instances = instances.filter((i) => ids.includes(i.id));
      instances = instances.filter((i) => all || this.instanceState(i, call.now) === "running");
      return {
        instanceStatusSet: instances.map((i) => {
          const state = this.instanceState(i, call.now);
          const ok =
            state === "running" && elapsed(call.now, lastStart(i), EC2_DURATIONS.pending * 3, this.scale);
          const status = state !== "running" ? "not-applicable" : ok ? "ok" : "initializing";
          return {
            instanceId: i.id,
            availabilityZone: i.az,
            instanceState: { code: STATE_CODES[state], name: state },
            systemStatus: {
              status,
              details: [{ name: "reachability", status: ok ? "passed" : "initializing" }],
            },
            instanceStatus: {
              status,
              details: [{ name: "reachability", status: ok ? "passed" : "initializing" }],
            },
          };
        }),
      };
    },

    TerminateInstances: (input, call) => {
      const ids = strList(input, "InstanceId");
      // Terminating is idempotent; an unknown id fails the whole request
      // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TerminateInstances.html).
      const found = ids.map((id) => {
        if (!ID_PATTERNS.i!.test(id))
          throw new AwsError("InvalidInstanceID.Malformed", `Invalid id: "${id}"`);
        const i = this.getInstance(call.region, id, call.now);
        if (!i) throw new AwsError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
        return i;
      });
      for (const i of found) {
        if (i.disableApiTermination) {
          throw new AwsError(
            "OperationNotPermitted",
            `The instance '${i.id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`,
          );
        }
      }
      return {
        instancesSet: found.map((i) => {
          const before = this.instanceState(i, call.now);
          if (i.terminatedAt === undefined) i.terminatedAt = call.now;
          const after = this.instanceState(i, call.now);
          return {
            instanceId: i.id,
            previousState: { code: STATE_CODES[before], name: before },
            currentState: { code: STATE_CODES[after], name: after },
          };
        }),
      };
    },

    ModifyInstanceAttribute: (input, call) => {
      const id = str(input, "InstanceId")!;
      const i = this.getInstance(call.region, id, call.now);
      if (!i) throw new AwsError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
      const groups = strList(input, "GroupId");
      if (groups.length) {
        for (const g of groups) {
          const sg = this.getGroup(call.region, g);
          if (sg.vpcId !== i.vpcId)
            throw new AwsError(
              "InvalidGroup.NotFound",
              `The security group '${g}' does not exist in VPC '${i.vpcId}'`,
            );
        }
        i.groupIds = groups;
      }
      const dat = bool(input, "DisableApiTermination.Value");
      if (dat !== undefined) i.disableApiTermination = dat;
      const attr = str(input, "Attribute");
      if (attr === "disableApiTermination") i.disableApiTermination = str(input, "Value") === "true";
      return { return: true };
    },
  };

  private filterInstances(instances: Instance[], filters: Filter[], call: Call): Instance[] {
    return applyFilters(
      instances,
      filters,
      {
        "instance-id": (i) => i.id,
        "instance-state-name": (i) => this.instanceState(i, call.now),
        "instance-state-code": (i) => String(STATE_CODES[this.instanceState(i, call.now)]),
        "client-token": (i) => i.clientToken,
        "vpc-id": (i) => i.vpcId,
        "subnet-id": (i) => i.subnetId,
        "availability-zone": (i) => i.az,
        "instance-type": (i) => i.type,
        "image-id": (i) => i.imageId,
        "private-ip-address": (i) => i.privateIp,
        "ip-address": (i) => i.publicIp,
        "reservation-id": (i) => i.reservationId,
        "key-name": (i) => i.keyName,
        "instance.group-id": (i) => i.groupIds,
        "network-interface.group-id": (i) => i.groupIds,
        "metadata-options.http-tokens": (i) => i.metadata.httpTokens,
      },
      (i) => i.tags,
    );
  }

  // ------------------------------------------------------------ security group rules

  private readPermissions(input: Tree, egress: boolean): Omit<SgRule, "id">[] {
    const out: Omit<SgRule, "id">[] = [];
    const perms = objList(input, "IpPermissions");
    // Legacy top-level form (CidrIp/IpProtocol/FromPort/ToPort or SourceSecurityGroupName).
    if (perms.length === 0 && str(input, "IpProtocol")) {
      const p = normProtocol(str(input, "IpProtocol")!);
      const from = p === "-1" ? -1 : (int(input, "FromPort") ?? -1);
      const to = p === "-1" ? -1 : (int(input, "ToPort") ?? -1);
      if (str(input, "CidrIp")) out.push({ egress, protocol: p, from, to, cidr: str(input, "CidrIp")! });
      return out;
    }
    for (const perm of perms) {
      const proto = normProtocol(str(perm, "IpProtocol") ?? "");
      if (!["tcp", "udp", "icmp", "icmpv6", "-1"].includes(proto) && !/^\d+$/.test(proto)) {
        throw new AwsError(
          "InvalidParameterValue",
          `Invalid value '${str(perm, "IpProtocol")}' for IP protocol. Unknown protocol.`,
        );
      }
      let from = int(perm, "FromPort");
      let to = int(perm, "ToPort");
      if (proto === "-1") {
        from = -1;
        to = -1;
      } else if (proto === "tcp" || proto === "udp") {
        // Port ranges for TCP/UDP: 0-65535, from <= to (https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html).
        if (from === undefined || to === undefined)
          throw new AwsError(
            "InvalidParameterValue",
            `Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.`,
          );
        if (from < 0 || to > 65535 || from > to)
          throw new AwsError("InvalidParameterValue", `Invalid TCP/UDP port range ${from}-${to}`);
      }
      const base = { egress, protocol: proto, from: from ?? -1, to: to ?? -1 };
      const sources = [
        ...objList(perm, "IpRanges").map((x) => ({
          ...base,
          cidr: str(x, "CidrIp"),
          description: str(x, "Description"),
        })),
        ...objList(perm, "Ipv6Ranges").map((x) => ({
          ...base,
          cidrV6: str(x, "CidrIpv6"),
          description: str(x, "Description"),
        })),
        ...objList(perm, "Groups").map((x) => ({
          ...base,
          groupId: str(x, "GroupId"),
          groupName: str(x, "GroupName"),
          description: str(x, "Description"),
        })),
      ];
      if (sources.length === 0) {
        throw new AwsError(
          "InvalidParameterValue",
          "The request must specify a source or destination: a CIDR range, a prefix list or a security group",
        );
      }
      for (const s of sources) {
        // Rule descriptions: up to 255 characters from a-zA-Z0-9, space and ._-:/()#,@[]+=&;{}!$*
        // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html).
        if (
          s.description !== undefined &&
          !/^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{0,255}$/.test(s.description)
        )
          throw new AwsError(
            "InvalidParameterValue",
            `Invalid rule description. Valid descriptions are strings less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*`,
          );
        if ("cidr" in s && s.cidr !== undefined && !parseCidr(s.cidr))
          throw new AwsError("InvalidParameterValue", `CIDR block ${s.cidr} is malformed`);
        const { groupName: _n, ...rule } = s as typeof s & { groupName?: string };
        out.push(rule);
      }
    }
    return out;
  }

  private ruleKey(r: Omit<SgRule, "id">): string {
    return `${r.egress}|${r.protocol}|${r.from}|${r.to}|${r.cidr ?? ""}|${r.cidrV6 ?? ""}|${r.groupId ?? ""}`;
  }

  private describeRule(r: Omit<SgRule, "id">): string {
    const peer = r.cidr ?? r.cidrV6 ?? r.groupId ?? "";
    const proto = r.protocol === "-1" ? "ALL" : r.protocol.toUpperCase();
    return `peer: ${peer}, ${proto}, from port: ${r.from}, to port: ${r.to}, ALLOW`;
  }

  private resolveRuleGroup(call: Call, input: Tree): SecurityGroup {
    const id = str(input, "GroupId");
    if (id) return this.getGroup(call.region, id);
    const name = str(input, "GroupName");
    const def = this.defaultVpc(call.region);
    const g = name
      ? Object.values(this.region(call.region).groups).find((x) => x.name === name && x.vpcId === def?.id)
      : undefined;
    if (!g)
      throw new AwsError(
        name ? "InvalidGroup.NotFound" : "MissingParameter",
        name
          ? `The security group '${name}' does not exist in default VPC '${def?.id}'`
          : "The request must contain the parameter groupId",
      );
    return g;
  }

  private authorize(input: Tree, call: Call, egress: boolean): object {
    const g = this.resolveRuleGroup(call, input);
    const rules = this.readPermissions(input, egress);
    for (const rule of rules) {
      if (rule.groupId) {
        const peer = this.getGroup(call.region, rule.groupId);
        if (peer.vpcId !== g.vpcId)
          throw new AwsError(
            "InvalidGroup.NotFound",
            `You have specified two resources that belong to different networks.`,
          );
      }
    }
    // A duplicate rule fails the whole request (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
    const existing = new Set(g.rules.map((r) => this.ruleKey(r)));
    const seen = new Set<string>();
    for (const rule of rules) {
      const k = this.ruleKey(rule);
      if (existing.has(k) || seen.has(k)) {
        throw new AwsError(
          "InvalidPermission.Duplicate",
          `the specified rule "${this.describeRule(rule)}" already exists`,
        );
      }
      seen.add(k);
    }
    // Quota: 60 inbound and 60 outbound rules per group (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html).
    if (g.rules.filter((r) => r.egress === egress).length + rules.length > 60) {
      throw new AwsError(
        "RulesPerSecurityGroupLimitExceeded",
        "The maximum number of rules per security group has been reached.",
      );
    }
    const added = rules.map((r) => ({ ...r, id: newId(this.cloud.ctx.rng, "sgr") }));
    g.rules.push(...added);
    return { return: true, securityGroupRuleSet: added.map((r) => this.ruleOut(g, r)) };
  }

  private revoke(input: Tree, call: Call, egress: boolean): object {
    const g = this.resolveRuleGroup(call, input);
    const ruleIds = strList(input, "SecurityGroupRuleId");
    if (ruleIds.length) {
      for (const id of ruleIds) {
        if (!g.rules.some((r) => r.id === id && r.egress === egress)) {
          throw new AwsError(
            "InvalidSecurityGroupRuleId.NotFound",
            `The security group rule ID '${id}' does not exist`,
          );
        }
      }
      g.rules = g.rules.filter((r) => !ruleIds.includes(r.id));
      return { return: true };
    }
    const rules = this.readPermissions(input, egress);
    const keys = new Set(rules.map((r) => this.ruleKey(r)));
    const unknown = rules.filter((r) => !g.rules.some((x) => this.ruleKey(x) === this.ruleKey(r)));
    if (unknown.length === rules.length) {
      throw new AwsError(
        "InvalidPermission.NotFound",
        "The specified rule does not exist in this security group.",
      );
    }
    g.rules = g.rules.filter((r) => !keys.has(this.ruleKey(r)));
    return {
      return: true,
      unknownIpPermissionSet: unknown.map((r) => ({
        ipProtocol: r.protocol,
        fromPort: r.from,
        toPort: r.to,
        ipRanges: r.cidr ? [{ cidrIp: r.cidr }] : [],
        groups: r.groupId ? [{ groupId: r.groupId }] : [],
      })),
    };
  }

  // ------------------------------------------------------------ RunInstances

  private runInstances(input: Tree, call: Call): object {
    const r = this.region(call.region);
    const rng = this.cloud.ctx.rng;
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
        return this.reservationOut(call.region, res, call.now);
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
    if (subnetId) subnet = this.getSubnet(call.region, subnetId);
    else {
      const def = this.defaultVpc(call.region);
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
      const sg = this.getGroup(call.region, g);
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

    // The profile must exist in IAM and have propagated (ec2-iam.ts).
    const profile = launchProfile(this.cloud, input, call.now);
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
        privateIp: this.allocateIp(call.region, subnet, call.now, n === 0 ? wantedIp : undefined),
        publicIp: mapPublic ? this.newPublicIp() : undefined,
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
    return this.reservationOut(call.region, res, call.now);
  }
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

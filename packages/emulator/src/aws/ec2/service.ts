/**
 * Amazon EC2 (protocol `ec2`, API 2016-11-15): the service's state per region (seeding the default VPC,
 * subnets and security group), lookups by id, and address allocation. Operations live beside it, one module per
 * responsibility (network, security-groups, rules, tags, images, instances, run-instances, instance-state, iam,
 * offerings), assembled in index.ts.
 * API reference: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Welcome.html
 */
import type { CloudContext } from "../../cloud.js";
import {
  type Az,
  cidrContains,
  intToIp,
  ipToInt,
  parseCidr,
  regionAzs,
  stableHex,
  type Tags,
} from "../kernel/common.js";
import { AWS_DURATIONS } from "../kernel/durations.js";
import { AwsError } from "../kernel/errors.js";
import type { AwsLookups, ServiceKernel } from "../kernel/lookups.js";
import { powerState } from "../kernel/power.js";
import type { Ec2Region, Instance, SecurityGroup, Subnet, Vpc } from "../kernel/shapes.js";

/** Durations (seconds at time scale 1). */
export const EC2_DURATIONS = AWS_DURATIONS.ec2;

export const ID_PATTERNS: Record<string, RegExp> = {
  i: /^i-([0-9a-f]{8}|[0-9a-f]{17})$/,
  sg: /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/,
  subnet: /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/,
  vpc: /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/,
  ami: /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/,
};

export class Ec2Service {
  constructor(private readonly k: ServiceKernel<Record<string, Ec2Region>>) {}

  get ctx(): CloudContext {
    return this.k.ctx;
  }

  get lookups(): AwsLookups {
    return this.k.lookups;
  }

  /** Every region's state as stored (nothing seeded). */
  regions(): Record<string, Ec2Region> {
    return this.k.state();
  }

  get scale(): number {
    return this.k.ctx.timeScale;
  }

  /** The region's state, seeding the default VPC, one default subnet per AZ and the default SG. */
  region(region: string): Ec2Region {
    const all = this.k.state();
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

  addDefaultGroup(r: Ec2Region, vpcId: string, id: string, seeded: boolean): void {
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
    const rng = this.k.ctx.rng;
    const first = [3, 18, 34, 44, 52, 54][rng.int(6)]!;
    return `${first}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`;
  }

  allocateIp(region: string, subnet: Subnet, now: number, wanted?: string): string {
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
    const rng = this.k.ctx.rng;
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
  taggable(region: string, id: string, now: number): { tags: Tags; type: string } {
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
}

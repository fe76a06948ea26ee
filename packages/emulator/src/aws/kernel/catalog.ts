/**
 * The public catalogue: real instance types and the seeded public AMIs. EC2 serves them (DescribeImages,
 * RunInstances, DescribeInstanceTypeOfferings) and SSM's public parameters name the AMIs, so both read it here.
 */

import { stableHex } from "./common.js";

export interface TypeInfo {
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

export const CANONICAL = "099720109477";
export const DEBIAN = "136693071363";

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

/** A machine shape: vCPUs and memory. */
export interface Shape {
  readonly vcpus: number;
  readonly memoryGiB: number;
}

type Row = readonly [name: string, vcpus: number, memoryGiB: number];

// Ordered by on-demand price in us-east-1 (cheapest first), so the first row that fits is the cheapest.
// General purpose m6i first at equal price; burstable t3 only for shapes too small for the m family.
// https://aws.amazon.com/ec2/instance-types/
const NODE_TYPES: readonly Row[] = [
  ["t3.medium", 2, 4],
  ["m6i.large", 2, 8],
  ["r6i.large", 2, 16],
  ["c6i.xlarge", 4, 8],
  ["m6i.xlarge", 4, 16],
  ["r6i.xlarge", 4, 32],
  ["c6i.2xlarge", 8, 16],
  ["m6i.2xlarge", 8, 32],
  ["r6i.2xlarge", 8, 64],
  ["c6i.4xlarge", 16, 32],
  ["m6i.4xlarge", 16, 64],
  ["r6i.4xlarge", 16, 128],
  ["m6i.8xlarge", 32, 128],
  ["m6i.12xlarge", 48, 192],
  ["m6i.16xlarge", 64, 256],
];

// RDS for MySQL classes, Graviton (cheaper at equal size). Burstable db.t4g only below 2 vCPU / 8 GiB: K3s
// writes to its datastore all the time, which drains CPU credits.
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html
const DB_CLASSES: readonly Row[] = [
  ["db.t4g.medium", 2, 4],
  ["db.m6g.large", 2, 8],
  ["db.r6g.large", 2, 16],
  ["db.m6g.xlarge", 4, 16],
  ["db.r6g.xlarge", 4, 32],
  ["db.m6g.2xlarge", 8, 32],
  ["db.r6g.2xlarge", 8, 64],
  ["db.m6g.4xlarge", 16, 64],
  ["db.r6g.4xlarge", 16, 128],
  ["db.m6g.8xlarge", 32, 128],
  ["db.m6g.12xlarge", 48, 192],
  ["db.m6g.16xlarge", 64, 256],
];

const pick = (rows: readonly Row[], shape: Shape): string | undefined =>
  rows.find(([, vcpus, memory]) => vcpus >= shape.vcpus && memory >= shape.memoryGiB)?.[0];

/** The cheapest listed x86_64 instance type with at least this shape (4 vCPU / 16 GiB → m6i.xlarge). */
export const nodeInstanceType = (shape: Shape): string | undefined => pick(NODE_TYPES, shape);

/** The cheapest listed RDS MySQL class with at least this shape (2 vCPU / 8 GiB → db.m6g.large). */
export const datastoreInstanceClass = (shape: Shape): string | undefined => pick(DB_CLASSES, shape);

/** Graviton (arm64) families such as m6g, c7gn or t4g, which need an arm64 AMI. */
export const isArmInstanceType = (type: string): boolean => /^[a-z]+\d+g[a-z]*\./.test(type);

/** Portable image names and the public SSM parameters that resolve them to today's AMI in any region. */
const IMAGES: Readonly<Record<string, { parameter: string; rootDevice: string }>> = {
  // https://documentation.ubuntu.com/aws/aws-how-to/instances/find-ubuntu-images/
  "ubuntu-24.04": {
    parameter: "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
    rootDevice: "/dev/sda1",
  },
  "ubuntu-22.04": {
    parameter: "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id",
    rootDevice: "/dev/sda1",
  },
  // https://wiki.debian.org/Cloud/AmazonEC2Image
  "debian-12": { parameter: "/aws/service/debian/release/12/latest/amd64", rootDevice: "/dev/xvda" },
  "debian-13": { parameter: "/aws/service/debian/release/13/latest/amd64", rootDevice: "/dev/xvda" },
};

/** Portable image names this provider knows. */
export const knownImages = (): string[] => Object.keys(IMAGES);

/** True for an image reference RunInstances takes as is. */
export const isAwsImage = (image: string): boolean => /^(ami-[0-9a-f]+|resolve:ssm:\/\S+)$/.test(image);

/**
 * The `ImageId` to launch and its root device: an AWS image reference is used as is, then `options.aws.amiId`,
 * then the portable name. RunInstances resolves `resolve:ssm:` itself, so no SSM client is needed.
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-systems-manager-parameter-to-find-AMI.html)
 * The root device of an `ami-…` id is left undefined: the caller reads it from the image, because a mapping
 * for another device name adds a data volume and leaves the root at the AMI's default size and encryption.
 */
export const resolveImage = (
  image: string,
  amiId: string | undefined,
  rootDeviceName: string | undefined,
): { imageId: string; rootDevice: string | undefined } | undefined => {
  const custom = isAwsImage(image) ? image : amiId;
  if (custom)
    return {
      imageId: custom,
      rootDevice: rootDeviceName ?? (custom.startsWith("ami-") ? undefined : "/dev/sda1"),
    };
  const known = IMAGES[image];
  return (
    known && { imageId: `resolve:ssm:${known.parameter}`, rootDevice: rootDeviceName ?? known.rootDevice }
  );
};

/**
 * EC2 DescribeImages over the seeded public AMIs (kernel/catalog.ts).
 */
import type { QueryOp } from "../kernel/call.js";
import { seededImages } from "../kernel/catalog.js";
import { stableHex } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { strList } from "../kernel/query.js";
import { applyFilters, paginate, readFilters } from "./filters.js";
import { ID_PATTERNS } from "./service.js";

export const imagesOps = (): Record<string, QueryOp> => ({
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
});

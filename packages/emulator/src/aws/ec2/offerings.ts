/**
 * EC2 DescribeInstanceTypeOfferings: which instance types each zone (or the region) offers. Every type of the
 * emulator's instance type table is offered in every zone, except in us-east-1's use1-az3 (us-east-1e in the
 * emulator's zone map), the zone AWS has left behind: no 6th/7th generation or Graviton families there, only
 * the 5th generation (https://wolfman.dev/posts/exclude-use1-az3/,
 * https://www.reddit.com/r/aws/comments/g5lh7h/t3m5r5_instance_types_in_use1az3/). A type outside the
 * table (`t9.huge`) is offered nowhere, as AWS answers for a type that does not exist: an empty list.
 */
import type { Call, QueryOp } from "../kernel/call.js";
import { INSTANCE_TYPES } from "../kernel/catalog.js";
import { type Az, regionAzs } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { int, objList, str, strList, type Tree } from "../kernel/query.js";

const LEGACY_ZONES = new Set(["use1-az3"]);
const LEGACY_FAMILIES = new Set(["m5", "m5a", "c5", "r5"]);

/** Does this zone offer this instance type? */
export const offeredIn = (az: Az, type: string): boolean =>
  INSTANCE_TYPES[type] !== undefined &&
  (!LEGACY_ZONES.has(az.id) || LEGACY_FAMILIES.has(type.split(".")[0] ?? ""));

type LocationType = "region" | "availability-zone" | "availability-zone-id";

const rows = (region: string, locationType: LocationType): { type: string; location: string }[] => {
  const azs = regionAzs(region);
  const types = Object.keys(INSTANCE_TYPES).sort();
  if (locationType === "region")
    return types
      .filter((t) => azs.some((az) => offeredIn(az, t)))
      .map((type) => ({ type, location: region }));
  return azs.flatMap((az) =>
    types
      .filter((t) => offeredIn(az, t))
      .map((type) => ({ type, location: locationType === "availability-zone" ? az.name : az.id })),
  );
};

export const offeringOps = (): Record<string, QueryOp> => ({
  DescribeInstanceTypeOfferings: (input: Tree, call: Call) => {
    // The model's enum has already refused other values; `outpost` needs Outposts, which the emulator has not.
    const locationType = (str(input, "LocationType") ?? "region") as LocationType | "outpost";
    if (locationType === "outpost") return { instanceTypeOfferingSet: [] };
    let found = rows(call.region, locationType);
    // Filters: `instance-type` and `location` only (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypeOfferings.html);
    // values may use * and ? wildcards, as in every EC2 filter.
    for (const f of objList(input, "Filter")) {
      const name = str(f, "Name") ?? "";
      const values = strList(f, "Value").map(
        (v) =>
          new RegExp(
            `^${v
              .replace(/[.+^${}()|[\]\\]/g, "\\$&")
              .replace(/\*/g, ".*")
              .replace(/\?/g, ".")}$`,
          ),
      );
      const field = name === "instance-type" ? "type" : name === "location" ? "location" : undefined;
      if (!field) throw new AwsError("InvalidParameterValue", `The filter '${name}' is invalid`);
      found = found.filter((r) => values.some((re) => re.test(r[field])));
    }
    // NextToken is the offset of the next page; MaxResults 5-1000 (model), default all.
    const start = Number(str(input, "NextToken") ?? "0");
    if (!Number.isInteger(start) || start < 0 || start > found.length)
      throw new AwsError("InvalidNextToken", "The specified token is invalid.");
    const size = int(input, "MaxResults") ?? 1000;
    const page = found.slice(start, start + size);
    return {
      instanceTypeOfferingSet: page.map((r) => ({
        instanceType: r.type,
        locationType,
        location: r.location,
      })),
      ...(start + size < found.length ? { nextToken: String(start + size) } : {}),
    };
  },
});

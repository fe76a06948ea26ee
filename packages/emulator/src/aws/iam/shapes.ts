/**
 * IAM's request and response shapes shared by its operations (iam.ts): name patterns the model declares, tag
 * lists and their quota, Marker/MaxItems paging.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html
 */
import type { Tags } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { int, objList, str, type Tree } from "../kernel/query.js";

/** The model's name patterns, which the shared validator does not check (ValidationError as IAM words it). */
export function checkPattern(member: string, value: string | undefined, re: RegExp, shown: string): void {
  if (value !== undefined && !re.test(value))
    throw new AwsError(
      "ValidationError",
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${shown}`,
    );
}
export const NAME = /^[\w+=,.@-]+$/;
export const PATH = /^(\/|\/[\u0021-\u007e]+\/)$/;

export function readTags(input: Tree): Tags {
  const tags: Tags = {};
  for (const t of objList(input, "Tags.member")) tags[str(t, "Key") ?? ""] = str(t, "Value") ?? "";
  return tags;
}

export function mergeTags(target: Tags, add: Tags, quota: string): void {
  for (const k of Object.keys(add))
    if (k.toLowerCase().startsWith("aws:"))
      throw new AwsError("InvalidInput", "User-defined tag keys can't start with 'aws:'.");
  const merged = { ...target, ...add };
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (50 tags per entity)
  if (Object.keys(merged).length > 50)
    throw new AwsError("LimitExceeded", `Cannot exceed quota for ${quota}: 50`, 409);
  Object.assign(target, add);
}

export const tagsOut = (tags: Tags) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** Marker/MaxItems paging as IAM list calls do it (the marker is opaque). */
export function page<T>(items: T[], input: Tree): { items: T[]; IsTruncated: boolean; Marker?: string } {
  const start = Number(Buffer.from(str(input, "Marker") ?? "", "base64").toString() || 0);
  if (!Number.isInteger(start) || start < 0) throw new AwsError("InvalidInput", "Invalid Marker.");
  const max = int(input, "MaxItems") ?? 100;
  const slice = items.slice(start, start + max);
  const more = start + max < items.length;
  return {
    items: slice,
    IsTruncated: more,
    Marker: more ? Buffer.from(String(start + max)).toString("base64") : undefined,
  };
}

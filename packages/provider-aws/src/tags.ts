import type { Tags } from "@k3sinfra/core";

/** `{ Key, Value }` list, the shape every AWS tagging API takes. */
export const tagList = (tags: Tags, extra: Tags = {}): { Key: string; Value: string }[] =>
  Object.entries({ ...tags, ...extra }).map(([Key, Value]) => ({ Key, Value }));

/** EC2 `Filters` selecting resources that carry every tag. */
export const tagFilters = (tags: Tags): { Name: string; Values: string[] }[] =>
  Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] }));

/** A tag list as a record. */
export const tagRecord = (
  list: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
) =>
  Object.fromEntries(
    (list ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? ""]),
  ) as Record<string, string>;

/** True when `actual` carries every tag of `wanted`. */
export const hasTags = (actual: Readonly<Record<string, string>>, wanted: Tags): boolean =>
  Object.entries(wanted).every(([k, v]) => actual[k] === v);

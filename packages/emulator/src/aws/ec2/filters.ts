/**
 * EC2 request helpers: filters (with wildcards), NextToken paging, tag specifications and tag rules.
 */
import { matchTagFilters, type Tags, wildcard } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { int, objList, str, strList, type Tree } from "../kernel/query.js";

export const tagItems = (tags: Tags): { key: string; value: string }[] =>
  Object.entries(tags).map(([key, value]) => ({ key, value }));

export interface Filter {
  name: string;
  values: string[];
}

export function readFilters(input: Tree): Filter[] {
  return objList(input, "Filter").map((f) => ({ name: str(f, "Name") ?? "", values: strList(f, "Value") }));
}

/** Apply EC2 filters: each filter must match (AND); any of its values may match (OR). */
export function applyFilters<T>(
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
export function paginate<T>(items: T[], input: Tree, min = 5, max = 1000): { page: T[]; nextToken?: string } {
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

export function normProtocol(p: string): string {
  const v = p.toLowerCase();
  if (v === "6") return "tcp";
  if (v === "17") return "udp";
  if (v === "1") return "icmp";
  if (v === "all") return "-1";
  return v;
}

export function readTagSpecs(input: Tree): { type: string; tags: Tags }[] {
  return objList(input, "TagSpecification").map((ts) => {
    const tags: Tags = {};
    for (const t of objList(ts, "Tag")) tags[str(t, "Key") ?? ""] = str(t, "Value") ?? "";
    return { type: str(ts, "ResourceType") ?? "", tags };
  });
}

/** EC2 tag rules: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions */
export function checkEc2Tags(tags: Tags): void {
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

export function tagsFor(specs: { type: string; tags: Tags }[], type: string): Tags {
  const out: Tags = {};
  for (const s of specs) if (s.type === type) Object.assign(out, s.tags);
  checkEc2Tags(out);
  return out;
}

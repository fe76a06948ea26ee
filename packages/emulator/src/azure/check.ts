/**
 * Request body checks taken from the swagger files of the api-versions the clients send (required fields,
 * enums, types), and ARM's naming rules:
 * https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules
 */
import { armErrors } from "./arm.js";

export type Body = Record<string, unknown>;

const isObj = (v: unknown): v is Body => typeof v === "object" && v !== null && !Array.isArray(v);

/** The value at a dotted path (`properties.subnet.id`). */
export const at = (body: unknown, path: string): unknown =>
  path.split(".").reduce<unknown>((v, k) => (isObj(v) ? v[k] : undefined), body);

/** The object at `path`, `{}` when absent; an error when present but not an object. */
export function obj(body: unknown, path: string): Body {
  const v = path === "" ? body : at(body, path);
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw armErrors.invalid(`'${path}' must be an object.`, path, "InvalidRequestFormat");
  return v;
}

export function arr(body: unknown, path: string): Body[] {
  const v = at(body, path);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every(isObj))
    throw armErrors.invalid(`'${path}' must be an array of objects.`, path, "InvalidRequestFormat");
  return v;
}

/** A string at `path`; required unless `optional`. */
export function str(body: unknown, path: string, optional?: false): string;
export function str(body: unknown, path: string, optional: true): string | undefined;
export function str(body: unknown, path: string, optional = false): string | undefined {
  const v = at(body, path);
  if (v === undefined || v === null) {
    if (optional) return undefined;
    throw armErrors.invalid(
      `The request is missing the required parameter '${path}'.`,
      path,
      "MissingRequiredParameter",
    );
  }
  if (typeof v !== "string")
    throw armErrors.invalid(`'${path}' must be a string.`, path, "InvalidRequestFormat");
  return v;
}

export function num(body: unknown, path: string, optional = false): number | undefined {
  const v = at(body, path);
  if (v === undefined || v === null) {
    if (optional) return undefined;
    throw armErrors.invalid(
      `The request is missing the required parameter '${path}'.`,
      path,
      "MissingRequiredParameter",
    );
  }
  if (typeof v !== "number" || !Number.isFinite(v))
    throw armErrors.invalid(`'${path}' must be a number.`, path, "InvalidRequestFormat");
  return v;
}

/** A value among the swagger enum's (case-insensitive, as ARM compares them); optional unless `required`. */
export function oneOf(
  body: unknown,
  path: string,
  values: readonly string[],
  required = false,
): string | undefined {
  const v = str(body, path, !required as true);
  if (v === undefined) return undefined;
  const hit = values.find((x) => x.toLowerCase() === v.toLowerCase());
  if (!hit)
    throw armErrors.invalid(`The value '${v}' of '${path}' is not one of: ${values.join(", ")}.`, path);
  return hit;
}

/** Tags: names 1–512 without `<>%&\?/`, values up to 256, at most 50. */
export function tags(body: unknown): Record<string, string> | undefined {
  const t = at(body, "tags");
  if (t === undefined || t === null) return undefined;
  if (!isObj(t)) throw armErrors.invalid("'tags' must be an object.", "tags", "InvalidRequestFormat");
  const entries = Object.entries(t);
  if (entries.length > 50)
    throw armErrors.invalid("A resource can have at most 50 tags.", "tags", "InvalidTagCount");
  for (const [k, v] of entries) {
    if (typeof v !== "string")
      throw armErrors.invalid(`Tag '${k}' must have a string value.`, "tags", "InvalidTag");
    if (k.length < 1 || k.length > 512 || /[<>%&\\?/]/.test(k))
      throw armErrors.invalid(
        `The tag name '${k}' has invalid characters or length.`,
        "tags",
        "InvalidTagNameCharacters",
      );
    if (v.length > 256)
      throw armErrors.invalid(
        `The tag value of '${k}' exceeds 256 characters.`,
        "tags",
        "InvalidTagValueLength",
      );
  }
  return t as Record<string, string>;
}

export const location = (body: unknown): string => str(body, "location").toLowerCase().replace(/\s+/g, "");

/** Names of network resources other than VNets: 1–80 word characters, `.` and `-`; begin alnum, end alnum or `_`. */
export const networkName =
  (min: number, max: number) =>
  (name: string): string | undefined =>
    name.length < min || name.length > max
      ? `the length must be between ${min} and ${max}`
      : /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) && /[A-Za-z0-9_]$/.test(name)
        ? undefined
        : "use letters, digits, underscores, periods and hyphens; begin with a letter or digit and end with a letter, digit or underscore";

/** Resource group names: 1–90 letters, digits, `_ - . ( )`, not ending with a period. */
export const resourceGroupName = (name: string): string | undefined =>
  name.length < 1 || name.length > 90
    ? "the length must be between 1 and 90"
    : /^[-\w.()]+$/u.test(name) && !name.endsWith(".")
      ? undefined
      : "use letters, digits, underscores, hyphens, periods and parentheses, and do not end with a period";

/** The `{ id }` reference at `path` must name a live resource of `type`; returns the id. */
export function ref(
  body: unknown,
  path: string,
  type: string,
  get: (id: string) => { type: string } | undefined,
  optional = false,
): string | undefined {
  const id = str(body, `${path}.id`, true);
  if (id === undefined) {
    if (optional) return undefined;
    throw armErrors.invalid(
      `The request is missing the required parameter '${path}.id'.`,
      path,
      "MissingRequiredParameter",
    );
  }
  const r = get(id);
  if (!r || r.type.toLowerCase() !== type.toLowerCase())
    throw armErrors.invalid(
      `Resource ${id} referenced by '${path}' was not found.`,
      path,
      "InvalidResourceReference",
    );
  return id;
}

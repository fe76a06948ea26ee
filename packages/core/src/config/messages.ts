import type { z } from "zod";
import type { ConfigIssue } from "../errors.js";

/** `nodes.size.vcpus`, `loadBalancer.clientCidrs[0]`: the path as a user writes it. */
export const pathOf = (path: readonly PropertyKey[]): string =>
  path
    .map((p) => (typeof p === "number" ? `[${p}]` : String(p)))
    .join(".")
    .replace(/\.\[/g, "[");

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d = Array.from({ length: s.length + 1 }, (_, i) =>
    Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= s.length; i++)
    for (let j = 1; j <= t.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      row[j] = Math.min(
        (up[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (up[j - 1] as number) + (s[i - 1] === t[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1])
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  return (d[s.length] as number[])[t.length] as number;
}

/**
 * The closest of `candidates` to `input`, when it is close enough to be a typo (a third of its length). A
 * version number is never "corrected": 8.3 is not a typo of 8.0.
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  if (/^[\d.]+$/.test(input)) return undefined;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const distance = editDistance(input, c);
    if (distance < bestDistance) [best, bestDistance] = [c, distance];
  }
  const limit = input.length < 3 ? 0 : Math.max(1, Math.floor(input.length / 3));
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

const shown = (value: unknown): string => {
  const text = typeof value === "string" ? `'${value}'` : JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
};

const TYPE_WORDS: Record<string, string> = {
  string: "a text value",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "a mapping (key: value lines)",
  array: "a list",
  record: "a mapping (key: value lines)",
};

const what = (input: unknown): string =>
  input === null
    ? "empty"
    : Array.isArray(input)
      ? "a list"
      : typeof input === "object"
        ? "a mapping"
        : typeof input === "string"
          ? `the text ${shown(input)}`
          : shown(input);

const UNITS: Record<string, string> = { string: " characters", array: " entries", set: " entries" };

/**
 * Zod's default messages ("Too big: expected number to be <=7") in words a person wrote. Handed to `safeParse`
 * as its error map, so a message written in the schema itself still wins.
 */
export const humanError: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      return `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}, not ${what(issue.input)}`;
    case "too_big": {
      const max = Number(issue.maximum);
      if (issue.origin === "number" || issue.origin === "int")
        return issue.inclusive === false
          ? `is ${shown(issue.input)}: it must be less than ${max}`
          : `is ${shown(issue.input)}, over the maximum of ${max}: use ${max} or less`;
      return `is too long: at most ${max}${UNITS[issue.origin] ?? ""}`;
    }
    case "too_small": {
      const min = Number(issue.minimum);
      if (issue.origin === "number" || issue.origin === "int")
        return issue.inclusive === false
          ? `is ${shown(issue.input)}: it must be more than ${min}`
          : `is ${shown(issue.input)}, under the minimum of ${min}: use ${min} or more`;
      return min <= 1 ? "must not be empty" : `is too short: at least ${min}${UNITS[issue.origin] ?? ""}`;
    }
    case "invalid_format":
      return `is not a valid ${issue.format}`;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    case "invalid_value":
      return `must be ${issue.values.length === 1 ? shown(issue.values[0]) : `one of ${issue.values.map(shown).join(", ")}`}`;
    case "unrecognized_keys":
      return `has unknown key(s) ${issue.keys.join(", ")}`;
    case "invalid_key":
      return "has a key that is not allowed";
    case "invalid_element":
      return "has a value that is not allowed";
    case "invalid_union":
      return "does not match any of the allowed forms";
    default:
      return "is not valid";
  }
};

/** The keys an object schema at `path` allows, looking through defaults and optionals. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  const unwrap = () => {
    for (;;) {
      const def = (s as { def?: { type?: string; innerType?: unknown } }).def;
      if (def && (def.type === "default" || def.type === "optional" || def.type === "nullable"))
        s = def.innerType;
      else return;
    }
  };
  unwrap();
  for (const key of path) {
    const shape = (s as { shape?: Record<string, unknown> }).shape;
    if (!shape || typeof key !== "string" || !(key in shape)) return [];
    s = shape[key];
    unwrap();
  }
  const shape = (s as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

/**
 * Turns schema issues into config issues: one per unknown key (with "did you mean" among the keys allowed
 * there), allowed values with a suggestion for a misspelt choice, and every path as a user writes it.
 */
export function schemaIssues(error: z.ZodError, schema: z.ZodType): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    const path = pathOf(issue.path);
    if (issue.code === "unrecognized_keys") {
      const allowed = keysAt(schema, issue.path);
      for (const key of issue.keys) {
        const guess = closest(key, allowed);
        out.push({
          path: path ? `${path}.${key}` : key,
          message: guess
            ? `is not a key k3sinfra knows: did you mean '${guess}'?`
            : `is not a key k3sinfra knows here (allowed: ${allowed.join(", ")}); remove it or check the spelling (\`k3sinfra schema\` lists every key)`,
        });
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === "invalid_value" && typeof issue.input === "string") {
      const guess = closest(
        issue.input,
        issue.values.filter((v): v is string => typeof v === "string"),
      );
      if (guess) message += `; did you mean '${guess}'?`;
    }
    out.push({ path: path || "(root)", message });
  }
  return out;
}

/**
 * Form-encoded Query requests (EC2 and awsQuery) as a tree: `Filter.1.Value.2=x` becomes
 * `{ Filter: [{ Value: [undefined, "x"] }] }` (numeric segments are 1-based list positions).
 * Handlers read wire names (EC2: `Filter`, `InstanceId`; awsQuery: `Subnets.member`, `Tags.Tag`).
 */
import { AwsError } from "./errors.js";

export type TreeValue = string | Tree | TreeValue[];
export interface Tree {
  [k: string]: TreeValue;
}

export function parseQueryTree(params: URLSearchParams): Tree {
  const root: Record<string, unknown> = {};
  for (const [key, value] of params) {
    const segs = key.split(".");
    let node = root;
    for (let i = 0; i < segs.length - 1; i++) {
      const s = segs[i]!;
      let next = node[s];
      if (typeof next !== "object" || next === null) {
        next = {};
        node[s] = next;
      }
      node = next as Record<string, unknown>;
    }
    const last = segs[segs.length - 1]!;
    if (typeof node[last] !== "object") node[last] = value;
  }
  return listify(root) as Tree;
}

function listify(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length > 0 && keys.every((k) => /^[1-9]\d*$/.test(k))) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => listify(obj[String(k)]));
  }
  for (const k of keys) obj[k] = listify(obj[k]);
  return obj;
}

/** Walk a dotted path of wire names. */
export function pick(tree: TreeValue | undefined, path: string): TreeValue | undefined {
  let cur: TreeValue | undefined = tree;
  for (const seg of path.split(".")) {
    if (cur === undefined || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

export function str(tree: TreeValue | undefined, path: string): string | undefined {
  const v = pick(tree, path);
  return typeof v === "string" ? v : undefined;
}

export function reqStr(
  tree: TreeValue | undefined,
  path: string,
  protocolMissing: (p: string) => AwsError,
): string {
  const v = str(tree, path);
  if (v === undefined || v === "") throw protocolMissing(path);
  return v;
}

export function int(tree: TreeValue | undefined, path: string): number | undefined {
  const v = str(tree, path);
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new AwsError("InvalidParameterValue", `Invalid value '${v}' for ${path}`);
  return n;
}

export function bool(tree: TreeValue | undefined, path: string): boolean | undefined {
  const v = str(tree, path);
  if (v === undefined || v === "") return undefined;
  return v.toLowerCase() === "true";
}

/** A list at `path` (EC2: `InstanceId`; awsQuery: `Subnets.member`). Missing or empty → []. */
export function list(tree: TreeValue | undefined, path: string): TreeValue[] {
  const v = pick(tree, path);
  if (v === undefined || v === "") return [];
  if (Array.isArray(v)) return v.filter((x) => x !== undefined);
  return [v];
}

export function strList(tree: TreeValue | undefined, path: string): string[] {
  return list(tree, path).filter((x): x is string => typeof x === "string");
}

export function objList(tree: TreeValue | undefined, path: string): Tree[] {
  return list(tree, path).filter((x): x is Tree => typeof x === "object" && !Array.isArray(x));
}

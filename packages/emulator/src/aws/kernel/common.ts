/**
 * What every AWS service shares: the account, regions and their zones, ids, lifecycle time (`phase`,
 * `elapsed`, `iso`), tag rules and filter wildcards, IPv4/CIDR arithmetic, HMAC and SSM parameter ARNs.
 */
import { createHash, createHmac } from "node:crypto";
import type { Rng } from "../../rng.js";
import { AwsError } from "./errors.js";

/** The account every emulated resource belongs to (it appears in ARNs and `ownerId`). */
export const ACCOUNT_ID = "123456789012";
export const DEFAULT_REGION = "us-east-1";

export type Tags = Record<string, string>;

/**
 * Availability zones per region: [zone-name suffix, zone id]. Real names/ids from
 * https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html (ids are per account in reality).
 */
const AZS: Record<string, [string, string][]> = {
  "us-east-1": [
    ["a", "use1-az6"],
    ["b", "use1-az1"],
    ["c", "use1-az2"],
    ["d", "use1-az4"],
    ["e", "use1-az3"],
    ["f", "use1-az5"],
  ],
  "us-east-2": [
    ["a", "use2-az1"],
    ["b", "use2-az2"],
    ["c", "use2-az3"],
  ],
  "us-west-1": [
    ["b", "usw1-az1"],
    ["c", "usw1-az3"],
  ],
  "us-west-2": [
    ["a", "usw2-az2"],
    ["b", "usw2-az1"],
    ["c", "usw2-az3"],
    ["d", "usw2-az4"],
  ],
  "eu-west-1": [
    ["a", "euw1-az3"],
    ["b", "euw1-az1"],
    ["c", "euw1-az2"],
  ],
  "eu-west-2": [
    ["a", "euw2-az2"],
    ["b", "euw2-az3"],
    ["c", "euw2-az1"],
  ],
  "eu-central-1": [
    ["a", "euc1-az2"],
    ["b", "euc1-az3"],
    ["c", "euc1-az1"],
  ],
  "ap-southeast-1": [
    ["a", "apse1-az2"],
    ["b", "apse1-az1"],
    ["c", "apse1-az3"],
  ],
  "ap-northeast-1": [
    ["a", "apne1-az4"],
    ["c", "apne1-az1"],
    ["d", "apne1-az2"],
  ],
};

export interface Az {
  name: string;
  id: string;
}

export function regionAzs(region: string): Az[] {
  const table = AZS[region];
  if (table) return table.map(([s, id]) => ({ name: region + s, id }));
  // Zone ids follow the real scheme: us-east-1 → use1-az1, ap-southeast-2 → apse2-az1.
  const dirs: Record<string, string> = { north: "n", south: "s", east: "e", west: "w", central: "c" };
  const [geo = region, dir = "", num = ""] = region.split("-");
  const d = dir.replace(
    /^(north|south)?(east|west|central)?$/,
    (_m, a?: string, b?: string) => (a ? (dirs[a] ?? "") : "") + (b ? (dirs[b] ?? "") : ""),
  );
  const short = `${geo}${d || dir}${num}`;
  return ["a", "b", "c"].map((s, i) => ({ name: region + s, id: `${short}-az${i + 1}` }));
}

export function isKnownRegionShape(region: string): boolean {
  return /^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region);
}

/** A stable id part derived from a name (for seeded defaults, independent of the RNG seed). */
export function stableHex(key: string, len: number): string {
  return createHash("sha256").update(`k3sinfra-emulator:${key}`).digest("hex").slice(0, len);
}

export const newId = (rng: Rng, prefix: string): string => `${prefix}-${rng.hex(17)}`;

export const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
export const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * Walk a lazily computed lifecycle: `steps` are [state, seconds]; after the last step the resource
 * is in `final`. Durations are multiplied by the emulator's time scale.
 */
export function phase(
  now: number,
  since: number,
  timeScale: number,
  steps: [string, number][],
  final: string,
): string {
  let t = since;
  for (const [state, seconds] of steps) {
    t += seconds * 1000 * timeScale;
    if (now < t) return state;
  }
  return final;
}

export const elapsed = (now: number, since: number, seconds: number, timeScale: number): boolean =>
  now >= since + seconds * 1000 * timeScale;

export const iso = (ms: number): string => new Date(ms).toISOString();

/** HMAC-SHA256: role sessions, IMDS tokens, sealed SecureStrings and master password digests use it. */
export const hmac = (key: Buffer | string, data: string): Buffer =>
  createHmac("sha256", key).update(data).digest();

/** The SSM parameter ARN of a name (a leading slash is not repeated; an ARN or `:version` selector is reduced). */
export const parameterArn = (region: string, name: string): string =>
  name.startsWith("arn:")
    ? name.replace(/:\d+$/, "")
    : `arn:aws:ssm:${region}:${ACCOUNT_ID}:parameter/${name.replace(/:\d+$/, "").replace(/^\//, "")}`;

/** Tag rules shared by EC2/RDS/ELBv2 (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html). */
export function checkTags(
  tags: Tags,
  opts: { maxKey: number; code: string; reservedPrefixes?: string[] },
): void {
  const keys = Object.keys(tags);
  if (keys.length > 50)
    throw new AwsError(
      opts.code === "ValidationError" ? "TooManyTags" : "TagLimitExceeded",
      "The maximum number of tags (50) was exceeded.",
    );
  for (const k of keys) {
    if (k.length < 1 || [...k].length > opts.maxKey) {
      throw new AwsError(opts.code, `Tag keys must be between 1 and ${opts.maxKey} characters: '${k}'`);
    }
    if ([...(tags[k] ?? "")].length > 256)
      throw new AwsError(opts.code, `Tag values must be at most 256 characters (key '${k}')`);
    for (const p of opts.reservedPrefixes ?? ["aws:"]) {
      if (k.toLowerCase().startsWith(p))
        throw new AwsError(opts.code, `Tag keys starting with '${p}' are reserved for internal use`);
    }
  }
}

export function matchTagFilters(tags: Tags, name: string, values: string[]): boolean | undefined {
  if (name.startsWith("tag:")) {
    const v = tags[name.slice(4)];
    return v !== undefined && values.some((p) => wildcard(p, v));
  }
  if (name === "tag-key") return Object.keys(tags).some((k) => values.some((p) => wildcard(p, k)));
  if (name === "tag-value") return Object.values(tags).some((val) => values.some((p) => wildcard(p, val)));
  return undefined;
}

/** EC2 filter values accept `*` and `?` wildcards (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Filtering.html). */
export function wildcard(pattern: string, value: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === value;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  return re.test(value);
}

// ---- IPv4 helpers ----
export function ipToInt(ip: string): number {
  const p = ip.split(".").map(Number);
  return (((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) >>> 0;
}
export const intToIp = (n: number): string =>
  [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

export function parseCidr(cidr: string): { base: number; prefix: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const octets = [m[1], m[2], m[3], m[4]].map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = ipToInt(octets.join("."));
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return { base: (base & mask) >>> 0, prefix };
}

export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  if (!o || !i || i.prefix < o.prefix) return false;
  const mask = o.prefix === 0 ? 0 : (~0 << (32 - o.prefix)) >>> 0;
  return (i.base & mask) >>> 0 === o.base;
}

export function cidrOverlaps(a: string, b: string): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

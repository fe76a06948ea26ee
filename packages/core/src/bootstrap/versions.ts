import { DEFAULT_K3S_VERSION, RANCHER_K8S_RANGES } from "../config/schema.js";
import type { ConfigIssue } from "../errors.js";

/**
 * K3s releases k3sinfra pins per Kubernetes minor. 1.33–1.36 are the releases K3s QA validated with
 * MySQL 8.4.8, Aurora MySQL 8.0 and MariaDB 11.4 (k3s-io/k3s#14100, #14103, #14102).
 */
export const K3S_PINNED_VERSIONS: Readonly<Record<string, string>> = {
  "1.32": "v1.32.11+k3s1",
  "1.33": "v1.33.12+k3s1",
  "1.34": "v1.34.8+k3s1",
  "1.35": "v1.35.5+k3s1",
  "1.36": "v1.36.1+k3s1",
};

/** MySQL 8.4 was validated from this K3s release on (k3s-io/k3s#14100). */
export const MIN_K3S_FOR_MYSQL_84 = "v1.33.12+k3s1";

/** A parsed `vMAJOR.MINOR.PATCH+k3sN`. */
export interface K3sVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly k3s: number;
}

/** Parses a K3s release name; `undefined` when it is not one. */
export function parseK3sVersion(version: string): K3sVersion | undefined {
  const m = /^v(\d+)\.(\d+)\.(\d+)\+k3s(\d+)$/.exec(version);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), k3s: Number(m[4]) };
}

/** Orders two K3s releases (negative when `a` is older). */
export function compareK3sVersions(a: K3sVersion, b: K3sVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch || a.k3s - b.k3s;
}

const minorOf = (v: K3sVersion): number => v.major * 1000 + v.minor;
const parseMinor = (s: string): number => {
  const [major = "0", minor = "0"] = s.split(".");
  return Number(major) * 1000 + Number(minor);
};
const needs84 = (mysqlVersion: string): boolean => parseMinor(mysqlVersion) >= parseMinor("8.4");

/** The result of `resolveK3sVersion`. */
export type K3sVersionResolution =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly issues: ConfigIssue[] };

/**
 * The K3s release to install: the override when it is valid, else DEFAULT_K3S_VERSION, else the pinned
 * release of the highest Kubernetes minor the Rancher version supports. Rancher's chart refuses a cluster
 * outside its `kubeVersion` (anchors-k3s.md B.3), and MySQL 8.4 needs ≥ v1.33.12+k3s1 (k3s-io/k3s#14100).
 */
export function resolveK3sVersion(
  rancherVersion: string,
  override: string | undefined,
  mysqlVersion: string,
): K3sVersionResolution {
  const rancherMinor = rancherVersion.split(".").slice(0, 2).join(".");
  const range = RANCHER_K8S_RANGES[rancherMinor];
  if (range === undefined) {
    const known = Object.keys(RANCHER_K8S_RANGES).join(", ");
    return fail("rancher.version", `Rancher ${rancherVersion} is not one k3sinfra knows (known: ${known})`);
  }
  const min84 = parseK3sVersion(MIN_K3S_FOR_MYSQL_84)!;
  const fits = (v: K3sVersion): boolean =>
    minorOf(v) >= parseMinor(range.min) &&
    minorOf(v) <= parseMinor(range.max) &&
    (!needs84(mysqlVersion) || compareK3sVersions(v, min84) >= 0);
  const rangeText = `Kubernetes ${range.min}–${range.max}`;
  if (override !== undefined) {
    const v = parseK3sVersion(override);
    if (!v) return fail("k3s.version", "must be a K3s release such as v1.33.12+k3s1");
    if (minorOf(v) < parseMinor(range.min) || minorOf(v) > parseMinor(range.max))
      return fail(
        "k3s.version",
        `${override} is Kubernetes ${v.major}.${v.minor}, outside Rancher ${rancherMinor}'s range (${rangeText}); ` +
          "Rancher's chart would refuse to install. Choose a release in that range or remove k3s.version",
      );
    if (!fits(v))
      return fail(
        "k3s.version",
        `${override} is older than ${MIN_K3S_FOR_MYSQL_84}, the first K3s release validated with MySQL ` +
          `${mysqlVersion} (k3s-io/k3s#14100); choose a newer release or datastore.version 8.0`,
      );
    return { ok: true, version: override };
  }
  const candidates = [DEFAULT_K3S_VERSION, ...Object.values(K3S_PINNED_VERSIONS).reverse()];
  const chosen = candidates.find((c) => fits(parseK3sVersion(c)!));
  if (chosen !== undefined) return { ok: true, version: chosen };
  return fail(
    "k3s.version",
    `no K3s release k3sinfra pins fits Rancher ${rancherMinor} (${rangeText}) with MySQL ${mysqlVersion}` +
      (needs84(mysqlVersion) ? ` (which needs ≥ ${MIN_K3S_FOR_MYSQL_84})` : "") +
      "; use datastore.version 8.0, a newer Rancher, or set k3s.version",
  );
}

const fail = (path: string, message: string): K3sVersionResolution => ({
  ok: false,
  issues: [{ path, message }],
});

import type { ConfigIssue } from "../errors.js";

/**
 * The Rancher releases k3sinfra installs, as data: each Rancher minor with the community chart versions it
 * accepts, the Kubernetes minors Rancher supports for it, the K3s release installed by default (one K3s QA
 * validated with MySQL 8.4 as its datastore) and the cert-manager release pinned beside it.
 *
 * Checked 2026-12-02 against the stored public material listed in each row's `sources`:
 * - Kubernetes ranges: Rancher's own "Remove support for K8s 1.x for Rancher 2.y.0" issues, which state the
 *   targeted range, and the upper bound the chart enforces (`kubeVersion` in `chart/Chart.yaml` at each tag).
 * - Community versions: rancher-docs `src/pages/versions.md` and `reference-guides/rancher-webhook.md`
 *   ("Availability in Community"). Later patches of a minor are Prime-only (rancher/rancher#46614), and the
 *   `.0` of a minor is published to the `latest` Helm repository only until the minor is declared stable
 *   (rancher/rancher#43780), so neither is listed for a stable minor.
 * - K3s: k3s-io/k3s#14100 validated MySQL 8.4.8 (a managed service) on v1.33.12+k3s1, v1.34.8+k3s1, v1.35.5+k3s1 and
 *   v1.36.1+k3s1 (also a MySQL 8.0-compatible managed engine, #14103, and MariaDB 11.4, #14102).
 * - cert-manager: its supported-releases table (cert-manager/website#2007: 1.19 supports Kubernetes 1.31–1.35,
 *   1.20 supports 1.32–1.35; 1.21 supports 1.33–1.36), latest patches from endoflife.date's cert-manager data.
 *   The SUSE support matrix pages (suse.com/suse-rancher/support-matrix/all-supported-versions/rancher-v2-1x-y)
 *   were not in the stored material, so the pin is the newest cert-manager release supporting the row's
 *   default Kubernetes minor, not one read off the matrix.
 *
 * Left out: Rancher 2.11 and older (end of maintenance; no K3s they support was validated with MySQL 8.4),
 * 2.13.3+ and 2.14.3+ (no stored material shows them published for the community; tags v2.13.3–v2.13.8 and
 * v2.14.3–v2.14.4 exist in rancher/rancher), and 2.16 (not released when the material was stored).
 */
export interface RancherRelease {
  /** Rancher minor, e.g. `2.14`. */
  readonly minor: string;
  /** Chart versions of this minor accepted in `rancher.version`, oldest first. */
  readonly versions: readonly string[];
  /** Whether the minor is in the `rancher-stable` Helm repository; else only in `rancher-latest`. */
  readonly stable: boolean;
  /** The Helm repository that serves these chart versions. */
  readonly chartRepository: {
    readonly name: "rancher-stable" | "rancher-latest";
    readonly url: string;
  };
  /** Kubernetes minors Rancher supports for this release, inclusive. */
  readonly kubernetes: { readonly min: string; readonly max: string };
  /** K3s release installed when `k3s.version` is not set: inside the range and validated with MySQL 8.4. */
  readonly defaultK3s: string;
  /** cert-manager release (Helm chart version) installed with this Rancher when it needs cert-manager. */
  readonly certManager: string;
  /** Where each fact of the row comes from. */
  readonly sources: readonly string[];
  /** When the row was checked against its sources. */
  readonly checked: string;
}

const STABLE = { name: "rancher-stable", url: "https://releases.rancher.com/server-charts/stable" } as const;
const LATEST = { name: "rancher-latest", url: "https://releases.rancher.com/server-charts/latest" } as const;
const CHECKED = "2026-12-02";
const K3S_MYSQL_84 = "https://github.com/k3s-io/k3s/issues/14100";
const CERT_MANAGER_RELEASES_URL = "https://cert-manager.io/docs/releases/";

/** Rancher releases, oldest first. The newest `stable` one is the default. */
export const RANCHER_RELEASES: readonly RancherRelease[] = [
  {
    minor: "2.12",
    versions: ["2.12.1", "2.12.2", "2.12.3"],
    stable: true,
    chartRepository: STABLE,
    kubernetes: { min: "1.31", max: "1.33" },
    // Kubernetes 1.33 reached end of life in June 2026: kept so clusters made with it still plan.
    defaultK3s: "v1.33.12+k3s1",
    certManager: "v1.21.1",
    sources: [
      "https://github.com/rancher/rancher/releases/tag/v2.12.3",
      "https://github.com/rancher/rancher/blob/v2.12.3/chart/Chart.yaml (kubeVersion: < 1.34.0-0)",
      "https://github.com/rancher/kontainer-driver-metadata/pull/1796 (1.30 not supported in 2.12)",
      "https://github.com/rancher/rancher-docs/blob/main/src/pages/versions.md (2.12.1–2.12.3 Community)",
      K3S_MYSQL_84,
      CERT_MANAGER_RELEASES_URL,
    ],
    checked: CHECKED,
  },
  {
    minor: "2.13",
    versions: ["2.13.1", "2.13.2"],
    stable: true,
    chartRepository: STABLE,
    kubernetes: { min: "1.32", max: "1.34" },
    defaultK3s: "v1.34.8+k3s1",
    certManager: "v1.21.1",
    sources: [
      "https://github.com/rancher/rancher/issues/51253 (2.13.0 supports 1.32–1.34)",
      "https://github.com/rancher/rancher/blob/v2.13.2/chart/Chart.yaml (kubeVersion: < 1.35.0-0)",
      "https://github.com/rancher/rancher-docs/blob/main/src/pages/versions.md (2.13.1, 2.13.2 Community)",
      "https://www.suse.com/suse-rancher/support-matrix/all-supported-versions/rancher-v2-13-1/",
      K3S_MYSQL_84,
      CERT_MANAGER_RELEASES_URL,
    ],
    checked: CHECKED,
  },
  {
    minor: "2.14",
    versions: ["2.14.1", "2.14.2"],
    stable: true,
    chartRepository: STABLE,
    kubernetes: { min: "1.33", max: "1.35" },
    defaultK3s: "v1.35.5+k3s1",
    certManager: "v1.21.1",
    sources: [
      "https://github.com/rancher/rancher/issues/53764 (2.14.0 supports 1.33–1.35)",
      "https://github.com/rancher/rancher/blob/v2.14.2/chart/Chart.yaml (kubeVersion: < 1.36.0-0)",
      "https://github.com/rancher/rancher-docs/pull/2322 (2.14.1, 2.14.2 Prime and Community)",
      "https://github.com/rancher/rancher/releases/tag/v2.14.2",
      K3S_MYSQL_84,
      CERT_MANAGER_RELEASES_URL,
    ],
    checked: CHECKED,
  },
  {
    minor: "2.15",
    versions: ["2.15.0"],
    // A minor's .0 is Community-only and served from rancher-latest until the minor is declared stable.
    stable: false,
    chartRepository: LATEST,
    kubernetes: { min: "1.34", max: "1.36" },
    defaultK3s: "v1.36.1+k3s1",
    certManager: "v1.21.1",
    sources: [
      "https://github.com/rancher/rancher/issues/55306 (2.15.0 supports 1.34–1.36)",
      "https://github.com/rancher/rancher/blob/v2.15.0/chart/Chart.yaml (kubeVersion: < 1.37.0-0)",
      "https://github.com/rancher/rancher/releases/tag/v2.15.0",
      "https://gitlab.com/sylva-projects/sylva-core/-/issues/4229 (no stable 2.15 published yet)",
      K3S_MYSQL_84,
      CERT_MANAGER_RELEASES_URL,
    ],
    checked: CHECKED,
  },
];

/**
 * cert-manager releases and the Kubernetes minors each supports (cert-manager.io/docs/releases), newest
 * first; used when `k3s.version` puts the cluster outside the default's range.
 */
export const CERT_MANAGER_RELEASES: readonly {
  readonly version: string;
  readonly kubernetes: { readonly min: string; readonly max: string };
}[] = [
  { version: "v1.21.1", kubernetes: { min: "1.33", max: "1.36" } },
  { version: "v1.20.3", kubernetes: { min: "1.32", max: "1.35" } },
  { version: "v1.19.6", kubernetes: { min: "1.31", max: "1.35" } },
];

const newestStable = (): { release: RancherRelease; version: string } => {
  const release = [...RANCHER_RELEASES].reverse().find((r) => r.stable)!;
  return { release, version: release.versions.at(-1)! };
};

/** The newest stable Rancher chart version: the default of `rancher.version`. */
export const DEFAULT_RANCHER_VERSION: string = newestStable().version;
/** The default K3s release of the default Rancher. */
export const DEFAULT_K3S_VERSION: string = newestStable().release.defaultK3s;

/** Every accepted `rancher.version`, oldest first. */
export const knownRancherVersions = (): string[] => RANCHER_RELEASES.flatMap((r) => r.versions);

/** The table row for a Rancher chart version; `undefined` when it is not one k3sinfra lists. */
export function rancherRelease(version: string): RancherRelease | undefined {
  const v = version.replace(/^v/, "");
  return RANCHER_RELEASES.find((r) => r.versions.includes(v));
}

/** The K3s release installed with this Rancher by default; `undefined` for a version not in the table. */
export const defaultK3sFor = (rancherVersion: string): string | undefined =>
  rancherRelease(rancherVersion)?.defaultK3s;

/**
 * The cert-manager release (Helm chart version) to install with this Rancher (L4 only: Rancher's default
 * `ingress.tls.source=rancher` needs it; on L7 TLS ends at the load balancer): the row's pin or, given the K3s
 * release actually installed, the newest cert-manager release that supports its Kubernetes minor.
 * `undefined` for a Rancher version not in the table. Rancher needs only the `cert-manager.io/v1` API and
 * cert-manager ≥ 1.15 (rancher/rancher chart/templates/_helpers.tpl, `rancher.certmanager.notes`).
 */
export function certManagerVersionFor(rancherVersion: string, k3sVersion?: string): string | undefined {
  const release = rancherRelease(rancherVersion);
  if (!release) return undefined;
  const k3s = k3sVersion === undefined ? undefined : parseK3sVersion(k3sVersion);
  if (!k3s) return release.certManager;
  const minor = k3s.major * 1000 + k3s.minor;
  const fits = CERT_MANAGER_RELEASES.find(
    (c) => minor >= parseMinor(c.kubernetes.min) && minor <= parseMinor(c.kubernetes.max),
  );
  return fits?.version ?? release.certManager;
}

/** cert-manager pin per Rancher minor (a view of RANCHER_RELEASES). */
export const CERT_MANAGER_VERSIONS: Readonly<Record<string, string>> = Object.fromEntries(
  RANCHER_RELEASES.map((r) => [r.minor, r.certManager]),
);

const unknownRancherMessage = (version: string): string =>
  `Rancher ${version} is not one k3sinfra installs (known: ${knownRancherVersions().join(", ")}; ` +
  `default ${DEFAULT_RANCHER_VERSION}). Later patches of a minor are Prime-only and not in the community chart repository`;

/**
 * K3s releases k3sinfra pins per Kubernetes minor. 1.33–1.36 are the releases K3s QA validated with
 * MySQL 8.4.8, a MySQL 8.0-compatible managed engine and MariaDB 11.4 (k3s-io/k3s#14100, #14103, #14102).
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
function parseMinor(s: string): number {
  const [major = "0", minor = "0"] = s.split(".");
  return Number(major) * 1000 + Number(minor);
}
const needs84 = (mysqlVersion: string): boolean => parseMinor(mysqlVersion) >= parseMinor("8.4");

/** The result of `resolveK3sVersion`. */
export type K3sVersionResolution =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly issues: ConfigIssue[] };

/**
 * The K3s release to install: the override when it is valid, else the Rancher release's default K3s, else
 * the pinned release of the highest Kubernetes minor the Rancher version supports. Rancher's chart refuses
 * a cluster outside its `kubeVersion` (https://github.com/rancher/rancher/blob/main/chart/Chart.yaml), and MySQL 8.4 needs ≥ v1.33.12+k3s1
 * (k3s-io/k3s#14100). An unknown Rancher version is refused with the list of known ones.
 */
export function resolveK3sVersion(
  rancherVersion: string,
  override: string | undefined,
  mysqlVersion: string,
): K3sVersionResolution {
  const release = rancherRelease(rancherVersion);
  if (release === undefined) return fail("rancher.version", unknownRancherMessage(rancherVersion));
  const range = release.kubernetes;
  const rancherMinor = release.minor;
  const min84 = parseK3sVersion(MIN_K3S_FOR_MYSQL_84)!;
  const fits = (v: K3sVersion): boolean =>
    minorOf(v) >= parseMinor(range.min) &&
    minorOf(v) <= parseMinor(range.max) &&
    (!needs84(mysqlVersion) || compareK3sVersions(v, min84) >= 0);
  const rangeText = `Kubernetes ${range.min}–${range.max}`;
  if (override !== undefined) {
    const v = parseK3sVersion(override);
    if (!v) return fail("k3s.version", `must be a K3s release such as ${release.defaultK3s}`);
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
  const candidates = [release.defaultK3s, ...Object.values(K3S_PINNED_VERSIONS).reverse()];
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

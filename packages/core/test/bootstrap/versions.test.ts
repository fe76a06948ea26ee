import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  CERT_MANAGER_RELEASES,
  certManagerVersionFor,
  compareK3sVersions,
  defaultK3sFor,
  K3S_PINNED_VERSIONS,
  knownRancherVersions,
  MIN_K3S_FOR_MYSQL_84,
  parseK3sVersion,
  RANCHER_RELEASES,
  rancherRelease,
  resolveK3sVersion,
} from "../../src/bootstrap/index.js";
import {
  ClusterConfigSchema,
  DEFAULT_K3S_VERSION,
  DEFAULT_RANCHER_VERSION,
} from "../../src/config/schema.js";

const minor = (v: string): number => {
  const p = parseK3sVersion(v)!;
  return p.major * 1000 + p.minor;
};
const num = (m: string): number => Number(m.split(".")[0]) * 1000 + Number(m.split(".")[1]);

describe("the Rancher release table", () => {
  it("defaults to the newest stable Rancher, 2.14.2, with K3s v1.35.5+k3s1", () => {
    expect(DEFAULT_RANCHER_VERSION).toBe("2.14.2");
    expect(DEFAULT_K3S_VERSION).toBe("v1.35.5+k3s1");
    const config = ClusterConfigSchema.parse({
      name: "rancher-prod",
      provider: "aws",
      region: "us-east-1",
      dns: { zone: "example.com" },
      rancher: { hostname: "rancher.example.com" },
    });
    expect(config.rancher.version).toBe("2.14.2");
    expect(resolveK3sVersion(config.rancher.version, config.k3s.version, config.datastore.version)).toEqual({
      ok: true,
      version: "v1.35.5+k3s1",
    });
  });

  it("keeps every row consistent: default K3s inside the range and validated with MySQL 8.4, sources dated", () => {
    const min84 = parseK3sVersion(MIN_K3S_FOR_MYSQL_84)!;
    for (const r of RANCHER_RELEASES) {
      const k3s = parseK3sVersion(r.defaultK3s)!;
      expect(minor(r.defaultK3s), r.minor).toBeGreaterThanOrEqual(num(r.kubernetes.min));
      expect(minor(r.defaultK3s), r.minor).toBeLessThanOrEqual(num(r.kubernetes.max));
      expect(compareK3sVersions(k3s, min84), r.minor).toBeGreaterThanOrEqual(0);
      expect(Object.values(K3S_PINNED_VERSIONS)).toContain(r.defaultK3s);
      expect(
        r.versions.every((v) => v.startsWith(`${r.minor}.`)),
        r.minor,
      ).toBe(true);
      expect(r.checked).toBe("2026-12-02");
      expect(r.sources.length).toBeGreaterThan(1);
      expect(r.sources.every((s) => s.startsWith("https://"))).toBe(true);
      expect(r.chartRepository.name).toBe(r.stable ? "rancher-stable" : "rancher-latest");
      // The pinned cert-manager supports the default K3s's Kubernetes minor.
      const cm = CERT_MANAGER_RELEASES.find((c) => c.version === r.certManager)!;
      expect(minor(r.defaultK3s)).toBeGreaterThanOrEqual(num(cm.kubernetes.min));
      expect(minor(r.defaultK3s)).toBeLessThanOrEqual(num(cm.kubernetes.max));
    }
  });

  it("looks a release up by chart version (with or without a v) and answers the lookups", () => {
    expect(rancherRelease("2.13.2")?.kubernetes).toEqual({ min: "1.32", max: "1.34" });
    expect(rancherRelease("v2.14.1")?.minor).toBe("2.14");
    expect(rancherRelease("2.15.0")).toMatchObject({
      stable: false,
      chartRepository: { name: "rancher-latest" },
    });
    expect(rancherRelease("2.14.4")).toBeUndefined();
    expect(defaultK3sFor("2.12.3")).toBe("v1.33.12+k3s1");
    expect(defaultK3sFor("2.15.0")).toBe("v1.36.1+k3s1");
    expect(certManagerVersionFor("2.14.2")).toBe("v1.21.1");
    // A K3s override outside the pin's range picks a cert-manager that supports it.
    expect(certManagerVersionFor("2.13.2", "v1.32.11+k3s1")).toBe("v1.20.3");
    expect(defaultK3sFor("2.9.0")).toBeUndefined();
    expect(certManagerVersionFor("2.14.4")).toBeUndefined();
    expect(knownRancherVersions()).toEqual([
      "2.12.1",
      "2.12.2",
      "2.12.3",
      "2.13.1",
      "2.13.2",
      "2.14.1",
      "2.14.2",
      "2.15.0",
    ]);
  });
});

describe("resolveK3sVersion", () => {
  it("uses each Rancher's default K3s", () => {
    expect(resolveK3sVersion("2.12.3", undefined, "8.4")).toEqual({ ok: true, version: "v1.33.12+k3s1" });
    expect(resolveK3sVersion("2.13.1", undefined, "8.4")).toEqual({ ok: true, version: "v1.34.8+k3s1" });
    expect(resolveK3sVersion("2.15.0", undefined, "8.0")).toEqual({ ok: true, version: "v1.36.1+k3s1" });
  });

  it("accepts an override inside the range", () => {
    expect(resolveK3sVersion("2.13.2", "v1.32.11+k3s1", "8.0")).toEqual({
      ok: true,
      version: "v1.32.11+k3s1",
    });
    expect(resolveK3sVersion("2.14.2", "v1.34.8+k3s1", "8.4")).toEqual({ ok: true, version: "v1.34.8+k3s1" });
  });

  it("refuses an override outside the range, naming the range", () => {
    const r = resolveK3sVersion("2.14.2", "v1.36.1+k3s1", "8.4");
    expect(r).toMatchObject({ ok: false, issues: [{ path: "k3s.version" }] });
    if (!r.ok)
      expect(r.issues[0]!.message).toMatch(/1\.36, outside Rancher 2\.14's range \(Kubernetes 1\.33–1\.35\)/);
  });

  it("refuses an override older than v1.33.12+k3s1 with MySQL 8.4 but allows it with 8.0", () => {
    expect(resolveK3sVersion("2.14.2", "v1.33.5+k3s1", "8.4")).toMatchObject({
      ok: false,
      issues: [{ path: "k3s.version", message: expect.stringContaining("k3s-io/k3s#14100") }],
    });
    expect(resolveK3sVersion("2.14.2", "v1.33.5+k3s1", "8.0")).toEqual({ ok: true, version: "v1.33.5+k3s1" });
    expect(resolveK3sVersion("2.13.2", "v1.32.11+k3s1", "8.4")).toMatchObject({ ok: false });
  });

  it("refuses a malformed override and an unknown Rancher, listing the known ones", () => {
    expect(resolveK3sVersion("2.14.2", "1.35", "8.4")).toMatchObject({
      ok: false,
      issues: [{ path: "k3s.version", message: expect.stringContaining("v1.35.5+k3s1") }],
    });
    for (const unknown of ["2.99.0", "2.11.4", "2.14.4"]) {
      const r = resolveK3sVersion(unknown, undefined, "8.4");
      expect(r).toMatchObject({ ok: false, issues: [{ path: "rancher.version" }] });
      if (!r.ok) {
        expect(r.issues[0]!.message).toContain(`Rancher ${unknown} is not one k3sinfra installs`);
        expect(r.issues[0]!.message).toContain(
          "2.12.1, 2.12.2, 2.12.3, 2.13.1, 2.13.2, 2.14.1, 2.14.2, 2.15.0",
        );
      }
    }
  });
});

describe("K3s version parsing", () => {
  it("parses and orders releases", () => {
    const a = parseK3sVersion("v1.33.12+k3s1")!;
    const b = parseK3sVersion("v1.33.9+k3s2")!;
    expect(a).toEqual({ major: 1, minor: 33, patch: 12, k3s: 1 });
    expect(compareK3sVersions(a, b)).toBeGreaterThan(0);
    expect(parseK3sVersion("v1.33.12")).toBeUndefined();
  });
});

describe("the examples", () => {
  it("show the current defaults and parse to them", () => {
    const dir = join(import.meta.dirname, "../../../../examples");
    const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = readFileSync(join(dir, f), "utf8");
      expect(text, f).toContain(`# version: ${DEFAULT_RANCHER_VERSION} `);
      expect(text, f).toContain(`#   version: ${DEFAULT_K3S_VERSION} `);
      const config = ClusterConfigSchema.parse(parse(text));
      expect(config.rancher.version, f).toBe(DEFAULT_RANCHER_VERSION);
      expect(
        resolveK3sVersion(config.rancher.version, config.k3s.version, config.datastore.version),
        f,
      ).toEqual({
        ok: true,
        version: DEFAULT_K3S_VERSION,
      });
    }
  });
});

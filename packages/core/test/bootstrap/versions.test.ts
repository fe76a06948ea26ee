import { describe, expect, it } from "vitest";
import { compareK3sVersions, parseK3sVersion, resolveK3sVersion } from "../../src/bootstrap/index.js";
import { DEFAULT_K3S_VERSION } from "../../src/config/schema.js";

describe("resolveK3sVersion", () => {
  it("defaults to the pinned default inside Rancher 2.12's range", () => {
    expect(resolveK3sVersion("2.12.3", undefined, "8.4")).toEqual({ ok: true, version: DEFAULT_K3S_VERSION });
  });

  it("picks a pinned release of the highest allowed minor when the default does not fit", () => {
    expect(resolveK3sVersion("2.11.4", undefined, "8.0")).toEqual({ ok: true, version: "v1.32.11+k3s1" });
  });

  it("explains that Rancher 2.11 and MySQL 8.4 have no common K3s", () => {
    const r = resolveK3sVersion("2.11.4", undefined, "8.4");
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.issues[0]!.path).toBe("k3s.version");
      expect(r.issues[0]!.message).toContain("v1.33.12+k3s1");
    }
  });

  it("accepts an override inside the range", () => {
    expect(resolveK3sVersion("2.13.0", "v1.34.8+k3s1", "8.4")).toEqual({ ok: true, version: "v1.34.8+k3s1" });
  });

  it("refuses an override outside the range, naming the range", () => {
    const r = resolveK3sVersion("2.12.3", "v1.35.5+k3s1", "8.4");
    expect(r).toMatchObject({ ok: false, issues: [{ path: "k3s.version" }] });
    if (!r.ok)
      expect(r.issues[0]!.message).toMatch(/1\.35, outside Rancher 2\.12's range \(Kubernetes 1\.31–1\.33\)/);
  });

  it("refuses an override older than v1.33.12+k3s1 with MySQL 8.4 but allows it with 8.0", () => {
    expect(resolveK3sVersion("2.12.3", "v1.33.5+k3s1", "8.4")).toMatchObject({
      ok: false,
      issues: [{ path: "k3s.version" }],
    });
    expect(resolveK3sVersion("2.12.3", "v1.33.5+k3s1", "8.0")).toEqual({ ok: true, version: "v1.33.5+k3s1" });
    expect(resolveK3sVersion("2.12.3", "v1.33.5+k3s1", "8.4.6")).toMatchObject({ ok: false });
  });

  it("refuses a malformed override and an unknown Rancher", () => {
    expect(resolveK3sVersion("2.12.3", "1.33", "8.4")).toMatchObject({
      ok: false,
      issues: [{ path: "k3s.version" }],
    });
    expect(resolveK3sVersion("2.99.0", undefined, "8.4")).toMatchObject({
      ok: false,
      issues: [{ path: "rancher.version" }],
    });
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

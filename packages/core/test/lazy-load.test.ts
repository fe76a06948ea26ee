import { describe, expect, it } from "vitest";
import { resolvedModules } from "../../../test/support/resolved-modules.js";

describe("lazy loading", () => {
  it("importing @k3sinfra/core loads no cloud SDK", () => {
    const loaded = resolvedModules("packages/core", `await import("@k3sinfra/core");`);
    expect(loaded).toContain("tsyringe");
    expect(loaded.filter((s) => /^(@aws-sdk|@google-cloud|@azure|cloudflare|mysql2)/.test(s))).toEqual([]);
  });
});

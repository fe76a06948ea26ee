import { describe, expect, it } from "vitest";
import { resolvedModules } from "../../../test/support/resolved-modules.js";

describe("lazy loading", () => {
  it("importing @k3sinfra/provider-cloudflare loads no cloudflare module", () => {
    const loaded = resolvedModules(
      "packages/provider-cloudflare",
      `const mod = await import("@k3sinfra/provider-cloudflare");
       if (mod.default.name !== "cloudflare") throw new Error("no descriptor");`,
    );
    expect(loaded).toContain("@k3sinfra/core");
    expect(loaded.filter((s) => /^cloudflare(\/|$)/.test(s))).toEqual([]);
  });
});

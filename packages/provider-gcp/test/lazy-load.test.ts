import { describe, expect, it } from "vitest";
import { resolvedModules } from "../../../test/support/resolved-modules.js";

describe("lazy loading", () => {
  it("importing @k3sinfra/provider-gcp loads no Google client (compute alone takes 1.5 s to import)", () => {
    const loaded = resolvedModules(
      "packages/provider-gcp",
      `const mod = await import("@k3sinfra/provider-gcp");
       if (mod.default.name !== "gcp") throw new Error("no descriptor");
       mod.default.services({ config: {}, options: {}, roles: ["network", "nodes"], env: {}, baseDir: "." });`,
    );
    expect(loaded).toContain("@k3sinfra/core");
    expect(
      loaded.filter((s) => /^(@google-cloud|@googleapis|google-auth-library|google-gax)(\/|$)/.test(s)),
    ).toEqual([]);
  });
});

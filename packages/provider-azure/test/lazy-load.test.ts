import { describe, expect, it } from "vitest";
import { resolvedModules } from "../../../test/support/resolved-modules.js";

describe("lazy loading", () => {
  it("importing @k3sinfra/provider-azure and building its services loads no @azure module", () => {
    // Every service is built (no cloud call): each client loads on first use, so a command that never calls
    // Azure loads none.
    const loaded = resolvedModules(
      "packages/provider-azure",
      `const mod = await import("@k3sinfra/provider-azure");
       if (mod.default.name !== "azure") throw new Error("no descriptor");
       const config = { name: "lazy", dns: { zone: "example.com" }, datastore: { databaseName: "k3s" } };
       mod.default.services({
         config,
         options: {},
         roles: ["network", "nodes", "datastore", "loadBalancer", "dns", "secretStore"],
         env: {},
         baseDir: ".",
       });`,
    );
    expect(loaded).toContain("@k3sinfra/core");
    expect(loaded.filter((s) => /^@azure(\/|$)/.test(s))).toEqual([]);
    // TLS is fetched only when a CA file is configured (clients.ts `withRoots`).
    expect(loaded.filter((s) => /^(node:)?tls$/.test(s))).toEqual([]);
  });
});

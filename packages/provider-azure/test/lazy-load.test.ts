import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("lazy loading", () => {
  it("importing @k3sinfra/provider-azure and building its services loads no @azure module", () => {
    // A fresh Node process imports the package, builds every service (no cloud call) and lists every module
    // specifier it resolved: each client loads on first use, so a command that never calls Azure loads none.
    const script = `
      import { registerHooks } from "node:module";
      const seen = [];
      registerHooks({ resolve(specifier, context, next) { seen.push(specifier); return next(specifier, context); } });
      const mod = await import("@k3sinfra/provider-azure");
      if (mod.default.name !== "azure") throw new Error("no descriptor");
      const config = { name: "lazy", dns: { zone: "example.com" }, datastore: { databaseName: "k3s" } };
      mod.default.services({
        config,
        options: {},
        roles: ["network", "nodes", "datastore", "loadBalancer", "dns", "secretStore"],
        env: {},
        baseDir: ".",
      });
      console.log(JSON.stringify(seen));
    `;
    const out = execFileSync(
      process.execPath,
      ["--conditions=@k3sinfra/source", "--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: new URL("..", import.meta.url).pathname,
        encoding: "utf8",
        env: {
          ...process.env,
          TSX_TSCONFIG_PATH: new URL("../../../tsconfig.base.json", import.meta.url).pathname,
        },
      },
    );
    const loaded = JSON.parse(out.trim().split("\n").pop() ?? "[]") as string[];
    expect(loaded).toContain("@k3sinfra/core");
    expect(loaded.filter((s) => /^@azure(\/|$)/.test(s))).toEqual([]);
    // TLS is fetched only when a CA file is configured (clients.ts `withRoots`).
    expect(loaded.filter((s) => /^(node:)?tls$/.test(s))).toEqual([]);
  });
});

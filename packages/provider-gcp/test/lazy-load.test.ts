import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("lazy loading", () => {
  it("importing @k3sinfra/provider-gcp loads no Google client (compute alone takes 1.5 s to import)", () => {
    // A fresh Node process imports the package and lists every module specifier it resolved.
    const script = `
      import { registerHooks } from "node:module";
      const seen = [];
      registerHooks({ resolve(specifier, context, next) { seen.push(specifier); return next(specifier, context); } });
      const mod = await import("@k3sinfra/provider-gcp");
      if (mod.default.name !== "gcp") throw new Error("no descriptor");
      mod.default.services({ config: {}, options: {}, roles: ["network", "nodes"], env: {}, baseDir: "." });
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
    expect(
      loaded.filter((s) => /^(@google-cloud|@googleapis|google-auth-library|google-gax)(\/|$)/.test(s)),
    ).toEqual([]);
  });
});

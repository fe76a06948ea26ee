import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("lazy loading", () => {
  it("importing @k3sinfra/core loads no cloud SDK", () => {
    // A fresh Node process imports core and lists every module it loaded.
    const script = `
      import { registerHooks } from "node:module";
      const seen = [];
      registerHooks({ resolve(specifier, context, next) { seen.push(specifier); return next(specifier, context); } });
      await import("@k3sinfra/core");
      console.log(JSON.stringify(seen));
    `;
    const out = execFileSync(
      process.execPath,
      ["--conditions=@k3sinfra/source", "--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: new URL("..", import.meta.url).pathname,
        encoding: "utf8",
      },
    );
    const loaded = JSON.parse(out.trim().split("\n").pop() ?? "[]") as string[];
    expect(loaded).toContain("tsyringe");
    expect(loaded.filter((s) => /^(@aws-sdk|@google-cloud|@azure|cloudflare|mysql2)/.test(s))).toEqual([]);
  });
});

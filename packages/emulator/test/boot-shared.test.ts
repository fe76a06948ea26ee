/**
 * The shared boot timeline (src/boot/) is cloud-neutral: every cloud that boots k3sinfra servers builds on it, so
 * it imports no cloud's folder (a cloud importing another's would tie their states and their changes together).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const BOOT = fileURLToPath(new URL("../src/boot/", import.meta.url));

describe("src/boot/", () => {
  it("imports no cloud folder", () => {
    const files = readdirSync(BOOT).filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = readFileSync(join(BOOT, f), "utf8");
      const specifiers = [...text.matchAll(/from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g)].map(
        (m) => m[1] ?? m[2],
      );
      for (const s of specifiers)
        expect(s, `${f} imports ${s}`).not.toMatch(/(^|\/)(aws|gcp|azure|cloudflare)\//);
    }
  });
});

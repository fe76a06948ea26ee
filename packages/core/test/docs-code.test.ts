import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The docs' TypeScript is code users copy: every ```ts block of docs/writing-a-provider.md, and of the
// README's library and provider sections, must type-check against the workspace's sources.
const root = fileURLToPath(new URL("../../..", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures/docs", import.meta.url));

interface Snippet {
  readonly file: string;
  readonly code: string;
}

/** The ```ts blocks of a Markdown text; a block whose first line is `// name.ts` is written as that file. */
export function tsBlocks(markdown: string): Snippet[] {
  const blocks = [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
  return blocks.map((code, i) => ({
    file: /^\/\/ ([\w.-]+\.ts)\n/.exec(code)?.[1] ?? `snippet-${i}.ts`,
    code,
  }));
}

/** The part of a Markdown text under a `## heading`, up to the next one. */
const section = (markdown: string, heading: string): string => {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no '## ${heading}' section`);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
};

const read = (path: string) => readFileSync(join(root, path), "utf8");

describe("the docs' code", () => {
  it("finds the blocks it is meant to check", () => {
    const guide = tsBlocks(read("docs/writing-a-provider.md")).map((s) => s.file);
    expect(guide).toEqual(
      expect.arrayContaining(["my-provider.ts", "deploy.ts", "mycloud.contract.test.ts"]),
    );
    const readme = read("README.md");
    expect(tsBlocks(section(readme, "As a library"))).toHaveLength(1);
    expect(tsBlocks(section(readme, "Writing your own provider")).length).toBeGreaterThanOrEqual(2);
  });

  it("type-checks with the workspace's TypeScript", () => {
    // Inside the repository (ignored by git) so that @k3sinfra/core, vitest and @types/node resolve.
    const dir = mkdtempSync(join(root, ".vitest-docs-"));
    try {
      const groups = {
        guide: tsBlocks(read("docs/writing-a-provider.md")),
        readme: [
          ...tsBlocks(section(read("README.md"), "As a library")),
          ...tsBlocks(section(read("README.md"), "Writing your own provider")),
        ],
      };
      for (const [name, snippets] of Object.entries(groups)) {
        // Each group is its own directory: both have a my-provider.ts, which their other snippets import.
        mkdirSync(join(dir, name));
        for (const f of readdirSync(fixtures)) copyFileSync(join(fixtures, f), join(dir, name, f));
        for (const s of snippets) writeFileSync(join(dir, name, s.file), s.code);
      }
      const config = {
        compilerOptions: {
          target: "ES2024",
          lib: ["ES2024"],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noUncheckedIndexedAccess: true,
          verbatimModuleSyntax: true,
          experimentalDecorators: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
          customConditions: ["@k3sinfra/source"],
          // The README imports the AWS provider, which the workspace root does not depend on.
          paths: { "@k3sinfra/provider-aws": ["../packages/provider-aws/src/index.ts"] },
        },
        include: ["guide/*.ts", "readme/*.ts"],
      };
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(config));
      const tsc = join(root, "node_modules/typescript/bin/tsc");
      let output = "";
      try {
        execFileSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], { encoding: "utf8" });
      } catch (error) {
        output = String((error as { stdout?: unknown }).stdout ?? error);
      }
      // Errors name the snippet's file (guide/my-provider.ts(12,3): …), the block to fix.
      expect(output.replaceAll(`${dir}/`, "")).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

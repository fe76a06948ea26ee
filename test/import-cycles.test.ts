import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Guard rails for a house a newcomer can change safely: no import cycle between source files (a cycle makes
// module initialisation order matter, and a file on it cannot be understood alone), and no source file over
// 400 lines (split it by responsibility). A generated file says so in its first lines and is exempt from the
// length rule.
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAX_LINES = 400;

/**
 * Folders left out while another change reworks them: the emulator's AWS folder is being split and its
 * cycles removed right now. Remove the entry when that lands; the test then holds it to the same rules.
 */
const EXCLUDED: string[] = [];

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : walk(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path] : [];
  });

const rel = (path: string) => relative(ROOT, path).split("\\").join("/");

/** Every `.ts` file under `packages/*\/src`, by path relative to the repository. */
function sources(): string[] {
  const packages = join(ROOT, "packages");
  return readdirSync(packages, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => {
      const src = join(packages, e.name, "src");
      try {
        return walk(src);
      } catch {
        return [];
      }
    })
    .map(rel)
    .filter((file) => !EXCLUDED.some((folder) => file.startsWith(folder)))
    .sort();
}

/**
 * The relative modules a file loads at run time, statically, by re-export or with `import()`, as repository
 * paths. `import type` and `export type` are left out: with `verbatimModuleSyntax` they are erased, so they
 * cannot make initialisation order matter (an inline `{ type X }` import is kept, and counts).
 */
function relativeImports(file: string, text: string): string[] {
  const specifiers = new Set<string>();
  const patterns = [
    /\b(?:import|export)\s+(?!type\b)(?:[\w*\s{},$]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/g,
    /\bimport\s*\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g,
  ];
  // Comments may show import lines as examples; they are not imports.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) specifiers.add(m[1] as string);
  return [...specifiers].map((s) => rel(resolve(dirname(join(ROOT, file)), s.replace(/\.js$/, ".ts"))));
}

/** The import graph's cycles (strongly connected components of two or more files, or a file importing itself). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(cyclePath(graph, new Set(scc)));
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** One concrete cycle through a strongly connected set, from its first file back to it: a → b → … → a. */
function cyclePath(graph: ReadonlyMap<string, readonly string[]>, scc: ReadonlySet<string>): string[] {
  const start = [...scc].sort()[0] as string;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift() as string;
    for (const w of graph.get(v) ?? []) {
      if (!scc.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let at = v; at !== start; at = previous.get(at) as string) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

const GENERATED = /\b(generated|do not edit)\b/i;

describe("the source tree", () => {
  const files = sources();
  const texts = new Map(files.map((f) => [f, readFileSync(join(ROOT, f), "utf8")]));

  it("finds the packages' sources", () => {
    expect(files.filter((f) => f.startsWith("packages/core/src/")).length).toBeGreaterThan(50);
    expect(files.some((f) => f.startsWith("packages/cli/src/"))).toBe(true);
  });

  it("has no import cycle between source files", () => {
    const graph = new Map(files.map((f) => [f, relativeImports(f, texts.get(f) ?? "")]));
    expect(cycles(graph).map((c) => c.join(" → "))).toEqual([]);
  });

  it(`has no source file over ${MAX_LINES} lines (a generated file says so at its top and is exempt)`, () => {
    const long = files.flatMap((f) => {
      const text = texts.get(f) ?? "";
      const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
      const generated = GENERATED.test(text.split("\n").slice(0, 5).join("\n"));
      return lines > MAX_LINES && !generated ? [`${f}: ${lines} lines`] : [];
    });
    expect(long).toEqual([]);
  });
});

describe("the guard rails can fail", () => {
  it("reads static, re-exported and dynamic relative imports, not type-only ones, comments or packages", () => {
    const text = [
      'import { a } from "./a.js";',
      'import { type B } from "../b/b.js";',
      'import type { T } from "./types.js";',
      'export type { U } from "./more-types.js";',
      'export * from "./c.js";',
      'export { d } from "./d.js";',
      'import "./side.js";',
      'const e = await import("./e.js");',
      'import { z } from "zod";',
      '// import { no } from "./comment.js";',
    ].join("\n");
    expect(relativeImports("packages/x/src/m/f.ts", text).sort()).toEqual([
      "packages/x/src/b/b.ts",
      "packages/x/src/m/a.ts",
      "packages/x/src/m/c.ts",
      "packages/x/src/m/d.ts",
      "packages/x/src/m/e.ts",
      "packages/x/src/m/side.ts",
    ]);
  });

  it("names a cycle as a path, and finds none in a tree", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts", "d.ts"]],
      ["d.ts", []],
      ["e.ts", ["e.ts"]],
    ]);
    expect(cycles(graph).map((c) => c.join(" → "))).toEqual(["a.ts → b.ts → c.ts → a.ts", "e.ts → e.ts"]);
    expect(
      cycles(
        new Map([
          ["a.ts", ["b.ts"]],
          ["b.ts", []],
        ]),
      ),
    ).toEqual([]);
  });
});

/**
 * The emulator's module graph stays acyclic and its files small: every relative import of every `.ts` file under
 * `src/` (static `import`/`export … from`, type-only ones included; dynamic `import()` is lazy by design and not
 * an edge), the AWS services' independence (a service folder imports the kernel and itself, the kernel no
 * service), and every file's length (at most 400 lines, none allowed over).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = resolve(fileURLToPath(import.meta.url), "../../src");
const MAX_LINES = 400;

const tsFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : [];
  });

// Top-level statements start in column 0 (the formatter keeps them there), so comments (` * import …`) and
// string contents never match; an import clause holds no quote or semicolon before its `from "…"`.
const IMPORT = /^(?:import|export)\s[^;'"]*?\bfrom\s*["']([^"']+)["']|^import\s*["']([^"']+)["']/gm;

/** The relative specifiers a module imports or re-exports. */
export const relativeImports = (source: string): string[] =>
  [...source.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? "").filter((s) => s.startsWith("."));

/** `./x.js` from `dir` → the `.ts` file it names (NodeNext: the `.js` of a `.ts` source). */
const resolveSpecifier = (from: string, spec: string, known: ReadonlySet<string>): string | undefined => {
  const base = resolve(dirname(from), spec);
  return [base.replace(/\.js$/, ".ts"), `${base}.ts`, join(base, "index.ts")].find((p) => known.has(p));
};

/** Every cycle of a graph, each once, as the path that closes it (`a → b → a`). */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const seen = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next);
      if (s === "open") {
        const cycle = stack.slice(stack.indexOf(next));
        // The same cycle found from another node is the same rotation of its members.
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const key = [...cycle.slice(start), ...cycle.slice(0, start)].join("\n");
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...cycle, next]);
        }
      } else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

describe("the emulator's modules", () => {
  const files = tsFiles(src);
  const known = new Set(files);
  const name = (path: string): string => relative(src, path);

  it("import each other without a cycle", () => {
    const graph = new Map<string, string[]>();
    for (const file of files) {
      const deps = relativeImports(readFileSync(file, "utf8"))
        .map((spec) => resolveSpecifier(file, spec, known))
        .filter((p): p is string => p !== undefined);
      graph.set(file, deps);
    }
    // The walk sees the imports: the AWS cloud imports its kernel.
    expect(graph.get(join(src, "aws/index.ts"))).toContain(join(src, "aws/kernel/call.ts"));
    const cycles = findCycles(graph).map((c) => c.map(name).join(" → "));
    expect(cycles, `import cycles:\n${cycles.join("\n")}`).toEqual([]);
  });

  it("keep AWS services apart: each imports the kernel and its own folder, the kernel no service", () => {
    const aws = join(src, "aws");
    const folderOf = (path: string): string | undefined => {
      const r = relative(aws, path);
      return r.startsWith("..") || !r.includes("/") ? undefined : r.split("/")[0];
    };
    const crossing: string[] = [];
    let edges = 0;
    for (const file of files) {
      const from = folderOf(file);
      if (from === undefined) continue;
      for (const spec of relativeImports(readFileSync(file, "utf8"))) {
        const dep = resolveSpecifier(file, spec, known);
        const to = dep && folderOf(dep);
        if (!dep || to === undefined) continue;
        edges++;
        if (to !== from && to !== "kernel") crossing.push(`${name(file)} imports ${name(dep)}`);
      }
    }
    // Only aws/index.ts (not in a folder) wires the services together.
    expect(edges).toBeGreaterThan(0);
    expect(
      crossing,
      `imports across AWS services (go through kernel/lookups.ts):\n${crossing.join("\n")}`,
    ).toEqual([]);
  });

  it(`are at most ${MAX_LINES} lines each`, () => {
    const over = files
      .map((file) => ({
        file: name(file),
        lines: readFileSync(file, "utf8").replace(/\n$/, "").split("\n").length,
      }))
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.file}: ${f.lines} lines`);
    expect(over, `files over ${MAX_LINES} lines (split them by responsibility):\n${over.join("\n")}`).toEqual(
      [],
    );
  });

  it("the walk finds a cycle and reads every form of import (the checks above can fail)", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a", "d"]],
      ["d", []],
      ["e", ["e"]],
    ]);
    expect(findCycles(graph)).toEqual([
      ["a", "b", "c", "a"],
      ["e", "e"],
    ]);
    const source = [
      'import { a } from "./a.js";',
      'import type {\n  B,\n  C,\n} from "../b.js";',
      'export { d } from "./d.js";',
      'export * from "./e.js";',
      'import "./side-effect.js";',
      'import { readFileSync } from "node:fs";',
      ' * import { x } from "./in-a-comment.js";',
      'const later = () => import("./lazy.js");',
      'export const url = "https://example.com/from";',
    ].join("\n");
    expect(relativeImports(source)).toEqual(["./a.js", "../b.js", "./d.js", "./e.js", "./side-effect.js"]);
  });
});

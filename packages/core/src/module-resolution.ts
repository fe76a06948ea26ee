import { existsSync, readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";

/** The conditions a dynamic `import()` from Node matches, in the order Node checks them. */
const IMPORT_CONDITIONS = new Set(["import", "node", "module-sync", "default"]);

/** Where a package name was found from one directory. */
export interface PackageResolution {
  /** The package's directory (symlinks resolved, as pnpm links them). */
  readonly packageDir: string;
  /** The file `import()` loads for the specifier, or `undefined` when the package does not export it. */
  readonly file: string | undefined;
}

/** `@scope/name/sub` → `["@scope/name", "./sub"]`; `name` → `["name", "."]`. */
export function splitSpecifier(specifier: string): [name: string, subpath: string] {
  const parts = specifier.split("/");
  const n = specifier.startsWith("@") ? 2 : 1;
  const rest = parts.slice(n).join("/");
  return [parts.slice(0, n).join("/"), rest ? `./${rest}` : "."];
}

function conditionalTarget(target: unknown): string | undefined {
  if (typeof target === "string") return target;
  if (Array.isArray(target)) {
    for (const t of target) {
      const found = conditionalTarget(t);
      if (found) return found;
    }
    return undefined;
  }
  if (target && typeof target === "object") {
    // Object order is the package's priority: the first key Node would match wins.
    for (const [key, value] of Object.entries(target)) {
      if (!IMPORT_CONDITIONS.has(key)) continue;
      const found = conditionalTarget(value);
      if (found) return found;
    }
  }
  return undefined;
}

/** Resolves `subpath` through a package's `exports` map with the conditions of an ESM `import()`. */
export function exportsTarget(exports: unknown, subpath: string): string | undefined {
  const isSubpathMap =
    exports !== null &&
    typeof exports === "object" &&
    !Array.isArray(exports) &&
    Object.keys(exports).some((k) => k.startsWith("."));
  if (!isSubpathMap) return subpath === "." ? conditionalTarget(exports) : undefined;
  const map = exports as Record<string, unknown>;
  if (subpath in map) return conditionalTarget(map[subpath]);
  for (const [key, value] of Object.entries(map)) {
    const star = key.indexOf("*");
    if (star < 0) continue;
    const [prefix, suffix] = [key.slice(0, star), key.slice(star + 1)];
    if (subpath.startsWith(prefix) && subpath.endsWith(suffix) && subpath.length >= key.length - 1) {
      const matched = subpath.slice(prefix.length, subpath.length - suffix.length);
      return conditionalTarget(value)?.replaceAll("*", matched);
    }
  }
  return undefined;
}

/**
 * Finds a package the way Node would from a file in `fromDir` (the nearest `node_modules/<name>` up the
 * tree), then the file an ESM `import()` of `specifier` loads: through `exports` with the import conditions,
 * so ESM-only packages resolve, or through `main` for packages without `exports`.
 */
export function resolvePackage(specifier: string, fromDir: string): PackageResolution | undefined {
  const [name, subpath] = splitSpecifier(specifier);
  let dir = resolve(fromDir);
  for (;;) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) {
      const packageDir = realpathSync(candidate);
      const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as {
        exports?: unknown;
      };
      if (manifest.exports !== undefined) {
        const target = exportsTarget(manifest.exports, subpath);
        const file = target ? join(packageDir, target) : undefined;
        return { packageDir, file: file && existsSync(file) ? file : undefined };
      }
      try {
        // No `exports`: CommonJS resolution (main, index.js, extensions) is what Node's ESM loader falls back to.
        const file = createRequire(join(packageDir, "package.json")).resolve(
          subpath === "." ? packageDir : join(packageDir, subpath),
        );
        return { packageDir, file };
      } catch {
        return { packageDir, file: undefined };
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

#!/usr/bin/env node
// Bundles the built entry points of the packages that every command loads (dist/…, from `tsc -b`) into
// dist/bundle/, one esbuild build per package with code splitting: `import("…")` stays lazy (a chunk loaded on
// first use), and modules shared by a package's entry points (core's `.`, `./testing`, `./internal`) exist once,
// so identity holds across them. Node loads a handful of files instead of some 300 modules (core with zod, yaml
// and tsyringe alone were 283 of the 386 modules `k3sinfra plan` loaded). Other packages stay external, imported
// by name as before, so a provider and the CLI share one core; cloud SDKs load only when a call needs them.
// The `exports` of each bundled package point their `default` condition at dist/bundle/; types stay in dist/.
// The CLI's bin is bundled too (with commander): some 35 modules fewer on every command's start-up.
//   node scripts/bundle.mjs [package …]   (default: every package below)
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Inlined dependencies taken from their ES build where Node's is CommonJS, so that the bundle hoists and
 * tree-shakes them instead of evaluating every module through a `require` shim: yaml's `browser` build (the same
 * code; it warns through console.warn instead of process.emitWarning), some 5 ms of every command's start-up.
 */
const ES_BUILDS = { yaml: "browser/index.js" };

/**
 * Package folder → the dependencies inlined into its bundle (with what they import); the rest stay external.
 */
export const BUNDLED = {
  core: ["zod", "yaml", "tsyringe"],
  "provider-aws": [],
  "provider-cloudflare": [],
  emulator: ["fast-xml-parser"],
  cli: ["commander"],
};

/**
 * Entry points beyond a package's `exports`: the CLI's bin (bin/k3sinfra.js runs dist/bundle/bin.js; the
 * package's export, the CLI as a library, stays dist/index.js).
 */
const BINS = { cli: ["bin"] };

/**
 * Built-ins imported through `require` (the banner's) instead of `import`: an ES import of a built-in builds its
 * namespace from every export, which runs the lazy getters of node:util (they load parseArgs, the diff engine
 * and worker_threads), node:process (process.report) and node:crypto (webcrypto): some 5 ms of every command's
 * start-up. The emulator's node-http.ts does the same by hand for node:http.
 */
const REQUIRED_BUILTINS = /^node:(util|process|crypto|child_process)$/;

/**
 * Built-ins whose default import becomes an object that requires the module on first use: commander imports
 * node:child_process (with net and dgram, some 2.5 ms) for subcommands that are executables, which k3sinfra has none of.
 */
const LAZY_DEFAULT_BUILTINS = /^node:child_process$/;

/**
 * What `importer` imports from `builtin` by name (`import x, { a, b as c } from "node:util"` → default, a, b), or
 * undefined when it imports the namespace (`* as`) or in some other way: that import stays as it is.
 */
const importedNames = (importer, builtin) => {
  const names = new Set();
  const quoted = builtin.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const text = readFileSync(importer, "utf8");
  if (new RegExp(`\\*\\s*as\\s+[\\w$]+\\s+from\\s*["']${quoted}["']`).test(text)) return undefined;
  const re = new RegExp(`import\\s+([\\w$\\s,{}]*?)\\s*from\\s*["']${quoted}["']`, "g");
  for (const [, clause] of text.matchAll(re)) {
    const m = /^\s*([\w$]+)?\s*,?\s*(?:\{([^}]*)\})?\s*$/.exec(clause);
    if (!m) return undefined;
    if (m[1]) names.add("default");
    for (const spec of (m[2] ?? "").split(",")) {
      const name = spec.trim().split(/\s+as\s+/)[0];
      if (name) names.add(name);
    }
  }
  return names.size > 0 ? [...names].sort() : undefined;
};

/**
 * Imports every output file of a package starts with. Core's: tsyringe throws at load without the Reflect
 * metadata polyfill, and a split bundle imports its shared chunks before the entry's own `import
 * "reflect-metadata"`; an import in the banner is evaluated before them (reflect-metadata stays external).
 */
const PRELUDE = { core: 'import "reflect-metadata";' };

const bare = (path) => !path.startsWith(".") && !path.startsWith("/") && !path.startsWith("node:");
const packageName = (path) =>
  path
    .split("/")
    .slice(0, path.startsWith("@") ? 2 : 1)
    .join("/");

/** Entry points: every `exports` target whose `default` is dist/bundle/<x>.js is built from dist/<x>.js. */
const entries = (dir, name) => {
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const points = {};
  for (const bin of BINS[name] ?? []) points[bin] = join(dir, "dist", `${bin}.js`);
  for (const target of Object.values(manifest.exports ?? {})) {
    const out = typeof target === "object" ? target.default : undefined;
    const m = typeof out === "string" ? /^\.\/dist\/bundle\/(.+)\.js$/.exec(out) : null;
    if (m) points[m[1]] = join(dir, "dist", `${m[1]}.js`);
  }
  return points;
};

export async function bundle(name) {
  // Loaded here, not at the top: `pnpm k3sinfra` reads BUNDLED on every run and bundles only when stale.
  const { build } = await import("esbuild");
  const dir = join(root, "packages", name);
  const inline = new Set(BUNDLED[name]);
  const outdir = join(dir, "dist", "bundle");
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: entries(dir, name),
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node22",
    // Inlined dependencies' ES builds where they ship one (tsyringe's CommonJS build is its `main`).
    mainFields: ["module", "main"],
    minifySyntax: true,
    minifyWhitespace: true,
    // No `__name` calls to keep the names of what the bundle renames (two `string`s become `string2`): they ran
    // for every function of zod and yaml at load, some 5 ms of every command's start-up, and nothing here reads
    // a function's name (errors set theirs).
    keepNames: false,
    legalComments: "linked",
    logLevel: "warning",
    // An inlined CommonJS dependency may still call require(); in an ES module it needs one.
    banner: {
      js: `${PRELUDE[name] ?? ""}import { createRequire as __k3sCreateRequire } from "node:module"; const require = __k3sCreateRequire(import.meta.url);`,
    },
    plugins: [
      {
        name: "required-builtins",
        setup(b) {
          // An import by name becomes a module that reads just those names from require(): copying every export
          // (esbuild's CommonJS interop) would run the getters too. Its require() of the built-in stays external.
          b.onResolve({ filter: REQUIRED_BUILTINS }, (args) => {
            const names = args.kind === "import-statement" && importedNames(args.importer, args.path);
            return names
              ? { path: `${args.path}#${names.join(",")}`, namespace: "required-builtin" }
              : { path: args.path, external: true };
          });
          b.onLoad({ filter: /.*/, namespace: "required-builtin" }, (args) => {
            const [builtin, names] = args.path.split("#");
            const load = `require(${JSON.stringify(builtin)})`;
            if (names === "default" && LAZY_DEFAULT_BUILTINS.test(builtin))
              return {
                contents: `export default new Proxy({}, { get: (_, key) => ${load}[key] });`,
                loader: "js",
              };
            const lines = names
              .split(",")
              .map((n) => (n === "default" ? "export default m;" : `export const ${n} = m.${n};`));
            return { contents: `const m = ${load};\n${lines.join("\n")}`, loader: "js" };
          });
        },
      },
      {
        name: "es-builds",
        setup(b) {
          const names = Object.keys(ES_BUILDS).filter((n) => inline.has(n));
          if (names.length === 0) return;
          const filter = new RegExp(`^(${names.join("|")})$`);
          b.onResolve({ filter }, async (args) => {
            // The package's own folder, as Node finds it from the importer (exports allow its package.json).
            const manifest = await b.resolve(`${args.path}/package.json`, {
              kind: "import-statement",
              resolveDir: args.resolveDir,
            });
            return { path: join(dirname(manifest.path), ES_BUILDS[args.path]) };
          });
        },
      },
      {
        name: "external-unless-inlined",
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (!bare(args.path)) return undefined;
            // What an inlined dependency imports is inlined with it (pnpm gives the package no access to it).
            if (args.importer.includes(`${"/"}node_modules${"/"}`)) return undefined;
            return inline.has(packageName(args.path)) ? undefined : { path: args.path, external: true };
          });
        },
      },
    ],
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const names = process.argv.slice(2);
  for (const name of names.length > 0 ? names : Object.keys(BUNDLED)) await bundle(name);
}

#!/usr/bin/env node
// Bundles the built entry points of the packages that every command loads (dist/…, from `tsc -b`) into
// dist/bundle/, one esbuild build per package with code splitting: `import("…")` stays lazy (a chunk loaded on
// first use), and modules shared by a package's entry points (core's `.`, `./testing`, `./internal`) exist once,
// so identity holds across them. Node loads a handful of files instead of some 300 modules (core with zod, yaml
// and tsyringe alone were 283 of the 386 modules `k3sinfra plan` loaded). Other packages stay external, imported
// by name as before, so a provider and the CLI share one core; cloud SDKs load only when a call needs them.
// The `exports` of each bundled package point their `default` condition at dist/bundle/; types stay in dist/.
//   node scripts/bundle.mjs [package …]   (default: every package below)
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Package folder → the dependencies inlined into its bundle (with what they import); the rest stay external.
 */
export const BUNDLED = {
  core: ["zod", "yaml", "tsyringe"],
  "provider-aws": [],
  "provider-cloudflare": [],
  emulator: ["fast-xml-parser"],
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
const entries = (dir) => {
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const points = {};
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
    entryPoints: entries(dir),
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
    keepNames: true,
    legalComments: "linked",
    logLevel: "warning",
    // An inlined CommonJS dependency may still call require(); in an ES module it needs one.
    banner: {
      js: `${PRELUDE[name] ?? ""}import { createRequire as __k3sCreateRequire } from "node:module"; const require = __k3sCreateRequire(import.meta.url);`,
    },
    plugins: [
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

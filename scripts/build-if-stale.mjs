// Builds the workspace when a source is newer than its package's build: what `pnpm k3sinfra` and
// `pnpm k3sinfra-emulator` run first, so that they run the built code, exactly as an install does. Up to date,
// the check costs a few milliseconds (a `tsc -b` that finds nothing to do costs about 200); stale, `tsc -b`
// rebuilds what changed and scripts/bundle.mjs bundles it again, output on stderr so that stdout stays the command's.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BUNDLED, bundle } from "./bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const packages = join(root, "packages");

const mtime = (path) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
};

/** The newest modification time under `dir` (files and folders: a deleted file touches its folder). */
const newest = (dir) => {
  let latest = mtime(dir);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : mtime(path));
  }
  return latest;
};

/** A package whose sources, tsconfig or manifest changed after its last build (or that was never built). */
const stale = () => {
  const shared = mtime(join(root, "tsconfig.base.json"));
  return readdirSync(packages).some((name) => {
    const dir = join(packages, name);
    if (!existsSync(join(dir, "tsconfig.json"))) return false;
    const built = existsSync(join(dir, "dist", ".tsbuildinfo"))
      ? mtime(join(dir, "dist", ".tsbuildinfo"))
      : 0;
    // A bundled package (scripts/bundle.mjs) is built once its bundle is there too.
    if (name in BUNDLED && !existsSync(join(dir, "dist", "bundle"))) return true;
    const inputs = Math.max(
      shared,
      mtime(join(dir, "tsconfig.json")),
      mtime(join(dir, "package.json")),
      newest(join(dir, "src")),
    );
    return inputs > built;
  });
};

/** Runs `tsc -b` when a package is stale; exits when `bin` (a built file under packages/) is still missing. */
export const buildIfStale = async (bin) => {
  if (!stale()) return;
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const build = spawnSync(process.execPath, [tsc, "-b"], { cwd: root, stdio: ["ignore", 2, 2] });
  if (build.status !== 0) {
    // tsc still emits what it can: run that, as the sources say, after its report.
    process.stderr.write("k3sinfra: `tsc -b` reported errors (above); running what it built.\n");
  }
  // What `pnpm build` does after tsc: the bundles of the packages every command loads, and the help texts `k3sinfra --help` prints without loading commander.
  for (const name of Object.keys(BUNDLED)) await bundle(name);
  spawnSync(process.execPath, [join(packages, "cli", "dist", "write-help-snapshot.js")], {
    cwd: root,
    stdio: ["ignore", 2, 2],
  });
  if (!existsSync(join(packages, bin))) {
    process.stderr.write(`k3sinfra: packages/${bin} is not built; run \`pnpm build\`.\n`);
    process.exit(1);
  }
};

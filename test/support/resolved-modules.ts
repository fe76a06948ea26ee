import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

// Installed with --import before anything else runs: every specifier resolved from then on is recorded.
const hook = `
  import { registerHooks } from "node:module";
  globalThis.__resolved = [];
  registerHooks({ resolve(specifier, context, next) { globalThis.__resolved.push(specifier); return next(specifier, context); } });
`;

/**
 * The module specifiers a fresh Node process resolves while it runs `body` (a module body: top-level await, and
 * dynamic `import()` of what it loads), from the workspace's sources (`@k3sinfra/source` condition, through tsx)
 * with `packageDir` (e.g. `packages/provider-aws`) as its working directory: what the lazy-load tests read.
 */
export function resolvedModules(packageDir: string, body: string): string[] {
  const script = `${body}\nconsole.log(JSON.stringify(globalThis.__resolved));`;
  const out = execFileSync(
    process.execPath,
    [
      "--conditions=@k3sinfra/source",
      "--import",
      `data:text/javascript,${encodeURIComponent(hook)}`,
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      script,
    ],
    {
      cwd: `${root}${packageDir}`,
      encoding: "utf8",
      // tsx reads compiler options (experimentalDecorators, for core's tsyringe classes) from here.
      env: { ...process.env, TSX_TSCONFIG_PATH: `${root}tsconfig.base.json` },
    },
  );
  return JSON.parse(out.trim().split("\n").pop() ?? "[]") as string[];
}

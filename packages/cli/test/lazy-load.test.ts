import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers.js";

const root = resolve(fileURLToPath(import.meta.url), "../../../..");
const bin = join(root, "packages/cli/src/bin.ts");
const hook = join(root, "packages/cli/test/fixtures/record-modules.mjs");

/** Runs the real bin in a child process and returns the module URLs it loaded. */
const loadedModules = async (args: string[]): Promise<{ stdout: string; modules: string[] }> => {
  const record = join(await tempDir(), "modules.json");
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--conditions=@k3sinfra/source", "--import", "tsx", "--import", hook, bin, ...args],
    {
      cwd: root,
      // tsx applies a tsconfig's compiler options only to files it includes; the root one includes none.
      env: {
        ...process.env,
        K3SINFRA_RECORD_MODULES: record,
        TSX_TSCONFIG_PATH: join(root, "tsconfig.base.json"),
      },
    },
  );
  return { stdout, modules: JSON.parse(await readFile(record, "utf8")) as string[] };
};

const FORBIDDEN = [
  /\/@aws-sdk\//,
  /\/@smithy\//,
  /cloudflare/,
  /\/@google-cloud\//,
  /\/@azure\//,
  /\/packages\/provider-/,
  /\/packages\/emulator\//,
  /\/packages\/core\/src\/testing\//,
];

describe("--help, --version and schema", () => {
  for (const args of [["--help"], ["--version"], ["up", "--help"], ["schema"]]) {
    it(`k3sinfra ${args.join(" ")} loads no provider and no cloud SDK`, async () => {
      const { stdout, modules } = await loadedModules(args);
      expect(stdout.length).toBeGreaterThan(0);
      // The recorder works: the CLI's own modules and commander are in the list.
      expect(modules.some((m) => m.includes("/packages/cli/src/main.ts"))).toBe(true);
      expect(modules.some((m) => m.includes("/commander/"))).toBe(true);
      const offending = modules.filter((m) => FORBIDDEN.some((re) => re.test(m)));
      expect(offending).toEqual([]);
    });
  }
});

import { readFileSync } from "node:fs";
import { distDir } from "./dist-dir.js";

/** The package version (package.json is one level above both src/ and dist/). Loads nothing but node:fs. */
export const version = (): string =>
  (
    JSON.parse(readFileSync(new URL("../package.json", distDir(import.meta.url)), "utf8")) as {
      version: string;
    }
  ).version;

/**
 * The answer to `k3sinfra --version` (or `-V`) alone, as commander prints it, without loading commander; any
 * other argv (`undefined`) goes through the program.
 */
export const fastVersion = (args: readonly string[]): string | undefined =>
  args.length === 1 && (args[0] === "--version" || args[0] === "-V") ? `${version()}\n` : undefined;

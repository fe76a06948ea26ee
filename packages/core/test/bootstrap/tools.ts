import { spawnSync } from "node:child_process";
import { describe } from "vitest";

const has = (tool: string): boolean => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;

/**
 * `describe` when the CLI tools exist. Outside CI a missing tool skips the block with a message; in CI
 * (`CI` set) the block runs and its first test fails, naming the package to install.
 */
export function describeWithTools(tools: readonly string[]): typeof describe | typeof describe.skip {
  const missing = tools.filter((t) => !has(t));
  if (missing.length === 0) return describe;
  if (!process.env.CI) {
    console.warn(`skipping: ${missing.join(", ")} not installed (apt-get install -y ${missing.join(" ")})`);
    return describe.skip;
  }
  return describe;
}

/** Throws when a tool is missing; call it first in tests guarded by `describeWithTools`. */
export function requireTools(tools: readonly string[]): void {
  const missing = tools.filter((t) => !has(t));
  if (missing.length > 0)
    throw new Error(`${missing.join(", ")} required when CI is set: apt-get install -y ${missing.join(" ")}`);
}

import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe } from "vitest";
import { runShell } from "../../../test/support/run-shell.js";
import { awsSecretReader, SSM_CLIENT_PATH, SSM_CLIENT_PROGRAM } from "../src/node-reader/index.js";

const has = (tool: string): boolean => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;

/**
 * `describe` when the tools exist. Outside CI a missing tool skips the block with a message; in CI (`CI`
 * set) the block runs, and fails on the missing tool.
 */
export function describeWith(tools: readonly string[]): typeof describe | typeof describe.skip {
  const missing = tools.filter((t) => !has(t));
  if (missing.length === 0 || process.env.CI) return describe;
  console.warn(`skipping: ${missing.join(", ")} not installed (apt-get install -y ${missing.join(" ")})`);
  return describe.skip;
}

/** The shipped program in a fresh 0700 file, as cloud-init writes it (`edit` changes it, for negative tests). */
export function writeProgram(edit?: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-ssm-"));
  const path = join(dir, "ssm.py");
  const text = edit ? edit(SSM_CLIENT_PROGRAM) : SSM_CLIENT_PROGRAM;
  if (edit && text === SSM_CLIENT_PROGRAM) throw new Error("the edit changed nothing");
  writeFileSync(path, text, { mode: 0o700 });
  chmodSync(path, 0o700);
  return path;
}

/** What `ssm.py sign` prints. */
export interface SignedRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
}

/** Runs `ssm.py sign` with the request spec (credentials included) on stdin. */
export function pythonSign(program: string, spec: Record<string, unknown>): SignedRequest {
  const r = spawnSync("python3", ["-I", program, "sign"], { input: JSON.stringify(spec) });
  if (r.status !== 0) throw new Error(`ssm.py sign failed (${r.status}): ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString("utf8")) as SignedRequest;
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the shipped shell functions under `sh` exactly as the boot script defines them, with the program
 * at a temporary path instead of `SSM_CLIENT_PATH`: `k3sinfra_secret <name>` or `k3sinfra_secret_put
 * <name>` (stdin given). Async, so an in-process emulator keeps serving while it runs.
 */
export async function runReader(
  program: string,
  call: "k3sinfra_secret" | "k3sinfra_secret_put",
  name: string,
  env: Record<string, string>,
  stdin = "",
): Promise<RunResult> {
  const functions = awsSecretReader.functions.replaceAll(SSM_CLIENT_PATH, program);
  const r = await runShell(`set -eu\n${functions}\n${call} "$1"\n`, env, stdin, [name]);
  return { status: r.status === -1 ? null : r.status, stdout: r.out, stderr: r.err };
}

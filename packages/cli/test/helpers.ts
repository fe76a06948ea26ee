import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { CliIo } from "../src/io.js";
import { main } from "../src/main.js";

/** What one in-process CLI run produced. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `k3sinfra <args>` in-process with captured output; not a terminal unless `tty` is given. */
export const runCli = async (
  args: readonly string[],
  opts: {
    cwd?: string;
    env?: Record<string, string>;
    tty?: boolean;
    stdoutTty?: boolean;
    stdin?: string;
    signal?: AbortSignal;
  } = {},
): Promise<CliRun> => {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), columns: 120 },
    env: { ...opts.env },
    isTTY: opts.tty ?? false,
    ...(opts.stdoutTty !== undefined ? { stdoutIsTTY: opts.stdoutTty } : {}),
    stdin: Readable.from(opts.stdin === undefined ? [] : [opts.stdin]),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const code = await main(["node", "k3sinfra", ...args], io);
  return { code, stdout, stderr };
};

/** A fresh temporary directory. */
export const tempDir = (): Promise<string> => mkdtemp(join(tmpdir(), "k3sinfra-cli-"));

/** Writes a memory-provider config into `dir` (its fake cloud persisted beside it) and returns its path. */
export const writeMemoryConfig = async (dir: string, extra = ""): Promise<string> => {
  const path = join(dir, "k3sinfra.yaml");
  await writeFile(
    path,
    `name: memtest
provider: memory
region: memory-1
dns:
  zone: example.com
rancher:
  hostname: rancher.example.com
options:
  memory:
    persistPath: ${join(dir, "cloud.json")}
${extra}`,
  );
  return path;
};

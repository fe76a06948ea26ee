import { spawn } from "node:child_process";

/** What a shell script run by `runShell` left. */
export interface ShellResult {
  /** The exit status; -1 when it died by a signal. */
  readonly status: number;
  readonly out: string;
  readonly err: string;
}

/**
 * Runs `script` under `sh -c` (extra `args` as `$1`…) with exactly `env` (plus PATH when it has none) and `stdin`:
 * how the node readers' tests play a node's boot script. Asynchronous, so an emulator in this process keeps
 * answering while it runs.
 */
export function runShell(
  script: string,
  env: Record<string, string>,
  stdin = "",
  args: readonly string[] = [],
): Promise<ShellResult> {
  const child = spawn("sh", ["-c", script, "sh", ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.on("data", (b: Buffer) => err.push(b));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) =>
      resolve({
        status: status ?? -1,
        out: Buffer.concat(out).toString("utf8"),
        err: Buffer.concat(err).toString("utf8"),
      }),
    );
  });
}

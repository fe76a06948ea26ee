/** Where the CLI writes and what it knows about its terminal, injectable so tests run it in-process. */

/** A sink for text (a stream, or a test buffer). */
export interface Writer {
  write(text: string): unknown;
  /** Terminal width, when the writer is a terminal. */
  readonly columns?: number;
  /** Terminal height, when the writer is a terminal: the live view never grows taller. */
  readonly rows?: number;
}

/** The CLI's view of its process. */
export interface CliIo {
  /** Results: the plan, outputs, a table, or the `--json` document. */
  readonly stdout: Writer;
  /** Progress, prompts, banners and errors. */
  readonly stderr: Writer;
  /** Environment for credentials, `NO_COLOR` and `K3SINFRA_DEBUG`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** True when a person is at a terminal: enables the live view, colours and confirmation prompts. */
  readonly isTTY: boolean;
  /**
   * Whether stdout is a terminal too; when false, results are written without colours even if the
   * terminal on stderr has them (`k3sinfra outputs > file`). Default: `isTTY`.
   */
  readonly stdoutIsTTY?: boolean;
  /** Where confirmations are read from. Default: `process.stdin`. */
  readonly stdin?: NodeJS.ReadableStream;
  /** Directory the default `k3sinfra.yaml` is looked up in. Default: `process.cwd()`. */
  readonly cwd?: string;
  /** Aborts the running command (bin.ts wires it to SIGINT, SIGTERM and SIGHUP; see signals.ts). */
  readonly signal?: AbortSignal;
}

/** The real process's streams and terminal. */
export const processIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  isTTY: Boolean(process.stdin.isTTY && process.stderr.isTTY),
  stdoutIsTTY: Boolean(process.stdout.isTTY),
  stdin: process.stdin,
  cwd: process.cwd(),
});

import { lstatSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { stripVTControlCharacters } from "node:util";
import type { ClusterConfigInput, ClusterSpec, CommandOptions } from "@k3sinfra/core";
import { api } from "./api.js";
import { type ConfirmOptions, confirm } from "./confirm.js";
import type { EmulatedCloud } from "./emulate.js";
import type { EmulateFaultFlags } from "./emulate-faults.js";
import type { CliIo } from "./io.js";
import { createRegistry } from "./registry.js";
import { UsageError, withStateFlags } from "./render/errors.js";
import { JsonLinesRenderer, LiveRenderer, PlainRenderer, type ProgressRenderer } from "./render/progress.js";
import { colorsEnabled, makeStyle, type Style } from "./render/style.js";
import { interruptNotice } from "./signals.js";

/** Flags every command accepts (the fault flags only with `--emulate`). */
export interface GlobalFlags extends EmulateFaultFlags {
  readonly config?: string;
  readonly json: boolean;
  readonly yes: boolean;
  readonly emulate: boolean;
  readonly color: boolean;
  readonly timeScale: number;
}

/** The default config file name, looked up in the working directory. */
export const DEFAULT_CONFIG = "k3sinfra.yaml";

/** What a command needs to call the API: the spec, and options wired to the renderer. */
export interface ApiCall {
  readonly spec: ClusterSpec;
  readonly options: CommandOptions;
  readonly renderer: ProgressRenderer;
}

/** One CLI invocation: its io, global flags, styling and output helpers. */
export class Session {
  readonly io: CliIo;
  readonly flags: GlobalFlags;
  readonly style: Style;
  readonly debug: boolean;
  /** The progress view of the running API call, if any: output to the terminal goes around it. */
  #renderer: ProgressRenderer | undefined;
  #prompting = false;

  constructor(io: CliIo, flags: GlobalFlags) {
    this.io = io;
    this.flags = flags;
    this.style = makeStyle(colorsEnabled(io.isTTY, flags.color, io.env));
    this.debug = io.env.K3SINFRA_DEBUG === "1" || io.env.K3SINFRA_DEBUG === "true";
  }

  /** The config file's absolute path. */
  get configPath(): string {
    return resolve(this.io.cwd ?? process.cwd(), this.flags.config ?? DEFAULT_CONFIG);
  }

  /** The config file as the user can find it: relative to the working directory when inside it. */
  get displayConfigPath(): string {
    return this.displayPath(this.configPath);
  }

  /** A path as the user reads it best: relative to the working directory when inside it, else absolute. */
  displayPath(path: string): string {
    const rel = relative(this.io.cwd ?? process.cwd(), path);
    return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
  }

  /** The flags a follow-up command needs to reach this run's state: ` --config <path>`, ` --emulate`. */
  get stateFlags(): string {
    return `${this.flags.config ? ` --config ${this.flags.config}` : ""}${this.flags.emulate ? " --emulate" : ""}`;
  }

  /** Writes a result to stdout (human mode), below the progress shown so far. */
  print(text: string): void {
    this.#renderer?.settle();
    // Next steps in the text (`k3sinfra up`, `k3sinfra plan`) reach the same state when copied.
    const out = withStateFlags(text, this.stateFlags);
    // Colours are for the terminal: a redirected stdout (a file, a pipe) gets plain text.
    this.io.stdout.write(this.io.stdoutIsTTY === false ? stripVTControlCharacters(out) : out);
  }

  /** Tells the progress view how many resources the coming work touches, for its footer. */
  expectProgress(total: number): void {
    this.#renderer?.expect(total);
  }

  /**
   * Asks for confirmation (see confirm.ts) below the progress shown so far. Ctrl-C while it waits ends the
   * command at the prompt, with nothing in flight to stop.
   */
  async confirm(opts: ConfirmOptions): Promise<void> {
    this.#renderer?.settle();
    this.#prompting = true;
    try {
      await confirm(this.io, opts);
    } finally {
      this.#prompting = false;
    }
  }

  /** Writes the one `--json` document to stdout. */
  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** The progress view for this invocation: JSON lines, a live terminal view, or plain lines. */
  renderer(): ProgressRenderer {
    if (this.flags.json) return new JsonLinesRenderer(this.io.stderr);
    if (this.io.isTTY) return new LiveRenderer(this.io.stderr, this.style);
    return new PlainRenderer(this.io.stderr, this.style);
  }

  /**
   * Runs `fn` with the spec and options for core's API: the config path (or, with `--emulate`, the loaded
   * config pointed at emulated state), the provider registry, progress to the renderer, the abort signal,
   * and the environment. Starts and always stops the emulator and the renderer; `readsCloud: false` (the
   * command reads no cloud: `plan --refresh=false`) starts no emulator, which is most of an emulated
   * command's start-up.
   */
  async withApi<T>(
    fn: (call: ApiCall) => Promise<T>,
    { signal, readsCloud = true }: { signal?: AbortSignal; readsCloud?: boolean } = {},
  ): Promise<T> {
    const configPath = this.configPath;
    // lstat, not exists: a symlink loop or a dangling link is there, and core's loader says what is wrong with
    // it (as it does for a path it cannot stat at all).
    let present = true;
    try {
      present = lstatSync(configPath, { throwIfNoEntry: false }) !== undefined;
    } catch {}
    if (!present) {
      // `init` writes to --config too, so the hint creates the very file that was asked for.
      const init = this.flags.config
        ? `k3sinfra init --provider <aws|gcp|azure|memory> --config ${this.flags.config}`
        : "k3sinfra init --provider <aws|gcp|azure|memory>";
      throw new UsageError(
        `no config at ${configPath}: create one with \`${init}\`, or pass --config <path> to use another file.`,
      );
    }
    const baseDir = dirname(configPath);
    const renderer = this.renderer();
    this.#renderer = renderer;
    const abortSignal = signal ?? this.io.signal;
    // Ctrl-C, SIGTERM, SIGHUP: say what happens next through the progress view, so the notice is not drawn over.
    const onAbort = () => {
      if (this.#prompting) return;
      renderer.interrupted();
      renderer.note(this.style.yellow(interruptNotice(this.io.signal)));
    };
    // Only the caller's signal (a stop signal) is an interruption.
    this.io.signal?.addEventListener("abort", onAbort, { once: true });
    let emulated: EmulatedCloud | undefined;
    try {
      let spec: ClusterSpec = configPath;
      if (this.flags.emulate) {
        // Config errors first, with their paths, before anything is started; the file is read (parsed) once.
        const source = await api.readConfig(configPath, { baseDir });
        const input = source.raw as ClusterConfigInput;
        await api.validateConfig(input, { baseDir, registry: createRegistry(), env: this.io.env });
        // Loaded only with --emulate: other commands never read the emulated clouds' table.
        const { startEmulatedCloud } = await import("./emulate.js");
        emulated = await startEmulatedCloud(input, {
          baseDir,
          timeScale: this.flags.timeScale,
          env: this.io.env,
          log: (line) => renderer.note(this.style.dim(`[emulator] ${line}`)),
          faults: this.flags,
          serve: readsCloud,
        });
        spec = emulated.spec;
        renderer.note(
          this.style.yellow(
            `EMULATED CLOUD (${emulated.clouds.join(" + ")}, time scale ${this.flags.timeScale}): nothing real is created; ` +
              `emulated resources are kept in ${this.displayPath(emulated.persistPath)}.` +
              (this.io.env.K3SINFRA_EMULATE_MYSQL_URL
                ? " RDS is backed by the MariaDB at K3SINFRA_EMULATE_MYSQL_URL."
                : ""),
          ),
        );
        if (emulated.faultsNote) renderer.note(this.style.yellow(emulated.faultsNote));
        if (emulated.ignored.length > 0) {
          renderer.note(
            `Ignored in the emulated run (they name real resources): ${emulated.ignored.join(", ")}.`,
          );
        }
      }
      const options: CommandOptions = {
        baseDir,
        registry: createRegistry(),
        onEvent: (e) => renderer.onEvent(e),
        env: emulated?.env ?? this.io.env,
        ...(emulated
          ? {
              poll: emulated.poll,
              datastoreAddress: (e: { host: string; port: number }) => emulated!.datastoreAddress(e),
              // Emulated servers boot in scaled time: so does the wait for them (at least 2 min on a busy machine).
              timeouts: { nodes: Math.max(120_000, Math.round(30 * 60_000 * this.flags.timeScale)) },
            }
          : {}),
        ...(abortSignal ? { signal: abortSignal } : {}),
      };
      return await fn({ spec, options, renderer });
    } finally {
      this.io.signal?.removeEventListener("abort", onAbort);
      // What the injected faults did to this run (how many calls, of which kind).
      const faulted = emulated?.faultSummary();
      if (faulted) renderer.note(this.style.yellow(faulted));
      renderer.stop();
      this.#renderer = undefined;
      await emulated?.stop();
    }
  }
}

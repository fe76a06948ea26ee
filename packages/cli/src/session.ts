import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { ClusterSpec, CommandOptions } from "@k3sinfra/core";
import { api } from "./api.js";
import { type EmulatedCloud, startEmulatedCloud } from "./emulate.js";
import type { CliIo } from "./io.js";
import { createRegistry } from "./registry.js";
import { UsageError } from "./render/errors.js";
import { JsonLinesRenderer, LiveRenderer, PlainRenderer, type ProgressRenderer } from "./render/progress.js";
import { colorsEnabled, makeStyle, type Style } from "./render/style.js";

/** Flags every command accepts. */
export interface GlobalFlags {
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

  /** Writes a result to stdout (human mode). */
  print(text: string): void {
    this.io.stdout.write(text);
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
   * and the environment. Starts and always stops the emulator and the renderer.
   */
  async withApi<T>(fn: (call: ApiCall) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const configPath = this.configPath;
    if (!existsSync(configPath)) {
      throw new UsageError(
        `no config at ${configPath}: create one with \`k3sinfra init --provider <aws|gcp|azure|memory>\` or pass --config <path>.`,
      );
    }
    const baseDir = dirname(configPath);
    const renderer = this.renderer();
    let emulated: EmulatedCloud | undefined;
    try {
      let spec: ClusterSpec = configPath;
      if (this.flags.emulate) {
        // Config errors first, with their paths, before anything is started.
        await api.validateConfig(configPath, { baseDir, registry: createRegistry(), env: this.io.env });
        const input = await api.loadConfig(configPath, { baseDir });
        emulated = await startEmulatedCloud(input, {
          baseDir,
          timeScale: this.flags.timeScale,
          env: this.io.env,
          log: (line) => renderer.note(this.style.dim(`[emulator] ${line}`)),
        });
        spec = emulated.spec;
        renderer.note(
          this.style.yellow(
            `EMULATED CLOUD (${emulated.clouds.join(" + ")}, time scale ${this.flags.timeScale}): nothing is created in a real account. ` +
              `Emulated resources are kept in ${emulated.persistPath}.` +
              (this.io.env.K3SINFRA_EMULATE_MYSQL_URL
                ? " RDS is backed by the MariaDB at K3SINFRA_EMULATE_MYSQL_URL."
                : ""),
          ),
        );
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
        ...(emulated ? { poll: emulated.poll, datastoreAddress: (e) => emulated!.datastoreAddress(e) } : {}),
        ...((signal ?? this.io.signal) ? { signal: signal ?? this.io.signal } : {}),
      };
      return await fn({ spec, options, renderer });
    } finally {
      renderer.stop();
      await emulated?.stop();
    }
  }
}

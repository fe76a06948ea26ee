import type { ProgressEvent } from "@k3sinfra/core";
import type { Writer } from "../io.js";
import { formatDuration, type Style } from "./style.js";

/** Receives a command's progress events and shows them somewhere. */
export interface ProgressRenderer {
  /** Handles one event from core. */
  onEvent(event: ProgressEvent): void;
  /** Prints a line outside the live area (a banner, a notice). */
  note(line: string): void;
  /** Final redraw; stops timers. Safe to call twice. */
  stop(): void;
}

type ResourceEvent = Extract<ProgressEvent, { type: "resource" }>;

interface Row {
  action: ResourceEvent["action"];
  phase: ResourceEvent["phase"];
  startedAt: number;
  elapsedMs?: number | undefined;
  message?: string | undefined;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const REDRAW_MS = 100;

const symbolFor = (row: Row, frame: number, style: Style): string => {
  switch (row.phase) {
    case "done":
      return style.green("✓");
    case "failed":
      return style.red("✗");
    case "skipped":
      return style.dim("-");
    case "retry":
      return style.yellow(SPINNER[frame % SPINNER.length] ?? "*");
    default:
      return style.cyan(SPINNER[frame % SPINNER.length] ?? "*");
  }
};

/**
 * On a terminal: one line per resource (spinner or result, action, elapsed time, last message), redrawn in
 * place with ANSI cursor movement at most every 100 ms. Lines are cut to the terminal width, because a
 * wrapped line would break the cursor arithmetic.
 */
export class LiveRenderer implements ProgressRenderer {
  readonly #out: Writer;
  readonly #style: Style;
  readonly #rows = new Map<string, Row>();
  #drawn = 0;
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;
  #dirty = false;
  #stopped = false;

  constructor(out: Writer, style: Style) {
    this.#out = out;
    this.#style = style;
  }

  onEvent(event: ProgressEvent): void {
    if (this.#stopped) return;
    if (event.type === "warning") {
      this.note(`${this.#style.yellow("Warning:")} ${event.message}`);
      return;
    }
    // `plan` is rendered by the command itself and `done` is followed by the command's own stop().
    if (event.type !== "resource") return;
    const row = this.#rows.get(event.resource);
    if (!row || event.phase === "start") {
      this.#rows.set(event.resource, {
        action: event.action,
        phase: event.phase,
        startedAt: Date.now(),
        elapsedMs: event.elapsedMs,
        message: event.message,
      });
    } else {
      // Keep the action from `start`: progress inside a create may be reported as a read.
      row.phase = event.phase;
      row.elapsedMs = event.elapsedMs ?? row.elapsedMs;
      // A finished row shows its own message (or its phase), not the last progress message.
      const finished = event.phase === "done" || event.phase === "failed" || event.phase === "skipped";
      if (event.message !== undefined || finished) row.message = event.message;
    }
    this.#schedule();
  }

  note(line: string): void {
    this.#clear();
    this.#out.write(`${line}\n`);
    this.#draw();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clear();
    this.#draw();
  }

  #schedule(): void {
    this.#dirty = true;
    if (this.#timer) return;
    // Draw now, then at most every REDRAW_MS; the interval also animates spinners and elapsed times.
    this.#redraw();
    this.#timer = setInterval(() => this.#redraw(), REDRAW_MS);
    this.#timer.unref();
  }

  #redraw(): void {
    this.#frame++;
    const running = [...this.#rows.values()].some((r) => !["done", "failed", "skipped"].includes(r.phase));
    if (!this.#dirty && !running) {
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    this.#dirty = false;
    this.#clear();
    this.#draw();
  }

  #clear(): void {
    if (this.#drawn === 0) return;
    // Up to the first drawn line, then erase to the end of the screen.
    this.#out.write(`\x1b[${this.#drawn}A\r\x1b[0J`);
    this.#drawn = 0;
  }

  #draw(): void {
    const width = Math.max(40, (this.#out.columns || 100) - 1);
    const nameWidth = Math.max(0, ...[...this.#rows.keys()].map((k) => k.length));
    const lines: string[] = [];
    const now = Date.now();
    for (const [resource, row] of this.#rows) {
      const elapsed = formatDuration(row.elapsedMs ?? now - row.startedAt);
      const head = `  ${symbolFor(row, this.#frame, this.#style)} ${resource.padEnd(nameWidth)}  ${row.action.padEnd(7)}  ${elapsed.padStart(7)}  `;
      const visibleHead = 2 + 1 + 1 + nameWidth + 2 + 7 + 2 + 7 + 2;
      const message = (row.message ?? row.phase).slice(0, Math.max(0, width - visibleHead));
      lines.push(head + this.#style.dim(message));
    }
    if (lines.length === 0) return;
    this.#out.write(`${lines.join("\n")}\n`);
    this.#drawn = lines.length;
  }
}

const clock = (): string => new Date().toISOString().slice(11, 19);

/** Off a terminal: one timestamped line per event; repeated progress messages are printed once. */
export class PlainRenderer implements ProgressRenderer {
  readonly #out: Writer;
  readonly #style: Style;
  readonly #last = new Map<string, string>();
  readonly #action = new Map<string, string>();

  constructor(out: Writer, style: Style) {
    this.#out = out;
    this.#style = style;
  }

  onEvent(event: ProgressEvent): void {
    if (event.type === "warning") {
      this.note(`${this.#style.yellow("Warning:")} ${event.message}`);
      return;
    }
    if (event.type !== "resource") return;
    if (event.phase === "start") this.#action.set(event.resource, event.action);
    // Plain reads (status, refresh before destroy) are only worth a line when something goes wrong.
    const action = this.#action.get(event.resource) ?? event.action;
    if (action === "read" && event.phase !== "failed" && event.phase !== "retry") return;
    const key = `${event.phase}:${event.message ?? ""}`;
    if (event.phase === "progress" && this.#last.get(event.resource) === key) return;
    this.#last.set(event.resource, key);
    const took = event.elapsedMs !== undefined ? ` after ${formatDuration(event.elapsedMs)}` : "";
    const message = event.message ? `: ${event.message}` : "";
    this.note(`${event.resource} ${action} ${event.phase}${took}${message}`);
  }

  note(line: string): void {
    this.#out.write(`${this.#style.dim(`[${clock()}]`)} ${line}\n`);
  }

  stop(): void {}
}

/** For `--json`: every event as one JSON line (with a timestamp) on stderr, keeping stdout for the result. */
export class JsonLinesRenderer implements ProgressRenderer {
  readonly #out: Writer;
  constructor(out: Writer) {
    this.#out = out;
  }
  onEvent(event: ProgressEvent): void {
    this.#out.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  }
  note(line: string): void {
    this.#out.write(`${JSON.stringify({ time: new Date().toISOString(), type: "note", message: line })}\n`);
  }
  stop(): void {}
}

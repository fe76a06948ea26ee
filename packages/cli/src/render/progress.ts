import type { ProgressEvent } from "@k3sinfra/core";
import type { Writer } from "../io.js";
import { formatDuration, type Style } from "./style.js";

/** Receives a command's progress events and shows them somewhere. */
export interface ProgressRenderer {
  /** Handles one event from core. */
  onEvent(event: ProgressEvent): void;
  /** Prints a line outside the live area (a banner, a notice). */
  note(line: string): void;
  /**
   * Leaves what is shown as it is and starts a new, empty live area below it. Called before the command
   * writes to the same terminal (the plan on stdout, a prompt), which must never land inside an area that
   * the next redraw erases.
   */
  settle(): void;
  /** The command was interrupted: resources that fail from now on were stopped, not broken. */
  interrupted(): void;
  /** How many resources the coming work touches, when no plan event says so (destroy). */
  expect(total: number): void;
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
  /** Failed after Ctrl-C: shown as stopped, not as an error. */
  stopped?: boolean;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const REDRAW_MS = 100;

const isFinished = (phase: ResourceEvent["phase"]): boolean =>
  phase === "done" || phase === "failed" || phase === "skipped";

const symbolFor = (row: Row, frame: number, style: Style): string => {
  switch (row.phase) {
    case "done":
      return style.green("✓");
    case "failed":
      return row.stopped ? style.yellow("■") : style.red("✗");
    case "skipped":
      return style.dim("-");
    case "retry":
      return style.yellow(SPINNER[frame % SPINNER.length] ?? "*");
    default:
      return style.cyan(SPINNER[frame % SPINNER.length] ?? "*");
  }
};

/** Cuts `text` to `width` characters, marking the cut with an ellipsis. */
const fit = (text: string, width: number): string =>
  text.length <= width ? text : width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}…`;

const messageFor = (row: Row): string => {
  if (row.stopped) return `interrupted${row.message ? ` (${row.message})` : ""}`;
  if (row.message) return row.message;
  return row.phase === "start" ? "started" : row.phase;
};

/**
 * On a terminal: one line per resource (spinner or result, action, elapsed time, last message), redrawn in
 * place with ANSI cursor movement at most every 100 ms, each frame in one write so it never flickers. Lines
 * are cut to the terminal width and the area to its height, because a wrapped or scrolled-off line would
 * break the cursor arithmetic. Reads (refreshing state before a plan, status) vanish once done, as in the
 * plain view: only the changes stay on screen.
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
  #interrupted = false;
  /** Changes in the plan being applied, when core announced one: the footer counts against it. */
  #total: number | undefined;
  #since: number | undefined;
  /** Reads that finished and left the view: the footer still counts them as done. */
  #readsDone = 0;

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
    if (event.type === "info") {
      this.note(this.#style.dim(`Note: ${event.message}`));
      return;
    }
    // The plan itself is printed by the command; here it only gives the footer its total.
    if (event.type === "plan") {
      this.#total = event.plan.changes.filter((c) => c.action !== "no-op").length;
      return;
    }
    // `done` is followed by the command's own stop().
    if (event.type !== "resource") return;
    const now = Date.now();
    this.#since ??= now;
    let row = this.#rows.get(event.resource);
    if (!row || event.phase === "start" || isFinished(row.phase)) {
      // A new piece of work on this resource (or one after a finished read): a fresh row at the bottom.
      this.#rows.delete(event.resource);
      row = { action: event.action, phase: event.phase, startedAt: now, message: event.message };
      this.#rows.set(event.resource, row);
    } else {
      // Keep the action from `start`: progress inside a create may be reported as a read.
      row.phase = event.phase;
      // A finished row shows its own message (or its phase), not the last progress message.
      if (event.message !== undefined || isFinished(event.phase)) row.message = event.message;
    }
    if (isFinished(event.phase)) {
      // Freeze the clock: core gives elapsedMs on most finishes, and the row's own start covers the rest.
      row.elapsedMs = event.elapsedMs ?? now - row.startedAt;
      if (event.phase === "failed" && this.#interrupted) row.stopped = true;
      if (row.action === "read" && event.phase === "done") {
        this.#rows.delete(event.resource);
        this.#readsDone++;
      }
    }
    this.#schedule();
  }

  note(line: string): void {
    if (this.#stopped) this.#out.write(`${line}\n`);
    // Erase the area, print the line above it and draw the area again, in one write.
    else this.#paint(`${this.#drawn > 0 ? this.#clearSequence() : ""}${line}\n`);
  }

  settle(): void {
    if (this.#stopped) return;
    // The last frame, whole (or just the erase, when every row was a read that vanished).
    this.#paint(this.#drawn > 0 ? this.#clearSequence() : "", true);
    this.#rows.clear();
    this.#drawn = 0;
    // The next event draws the new area at once.
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#total = undefined;
    this.#since = undefined;
    this.#readsDone = 0;
  }

  interrupted(): void {
    this.#interrupted = true;
  }

  expect(total: number): void {
    this.#total = total;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    // The last frame stays in the scrollback, whole: no height limit is needed once nothing moves.
    this.#paint(this.#drawn > 0 ? this.#clearSequence() : "", true);
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
    const running = [...this.#rows.values()].some((r) => !isFinished(r.phase));
    if (!this.#dirty && !running) {
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    this.#dirty = false;
    this.#paint(this.#drawn > 0 ? this.#clearSequence() : "");
  }

  /** Cursor up to the first drawn line, then erase to the end of the screen. */
  #clearSequence(): string {
    return `\x1b[${this.#drawn}A\r\x1b[0J`;
  }

  /** Writes `prefix` and the current frame in one write, and remembers how many lines the frame has. */
  #paint(prefix: string, whole = false): void {
    const lines = this.#lines(whole);
    const text = prefix + lines.map((l) => `${l}\n`).join("");
    // Counted before writing: a write may call back into the renderer (a Ctrl-C notice, a test's terminal).
    this.#drawn = lines.length;
    if (text) this.#out.write(text);
  }

  #line(resource: string, row: Row, nameWidth: number, width: number, now: number): string {
    const elapsed = formatDuration(row.elapsedMs ?? now - row.startedAt);
    const head = `  ${symbolFor(row, this.#frame, this.#style)} ${resource.padEnd(nameWidth)}  ${row.action.padEnd(7)}  ${elapsed.padStart(7)}  `;
    const visibleHead = 2 + 1 + 1 + nameWidth + 2 + 7 + 2 + 7 + 2;
    const message = fit(messageFor(row), Math.max(0, width - visibleHead));
    return head + (row.stopped ? this.#style.yellow(message) : this.#style.dim(message));
  }

  /**
   * While work runs, where it stands overall, as `pulumi up` shows: `5/9 done · 1 in progress · 3 waiting ·
   * 12.4s`. Resources that wait for others have no row yet; this line says they exist.
   */
  #footer(now: number): string | undefined {
    if (this.#rows.size === 0 || this.#since === undefined) return undefined;
    const rows = [...this.#rows.values()];
    const done = rows.filter((r) => r.phase === "done").length + this.#readsDone;
    const failed = rows.filter((r) => r.phase === "failed").length;
    const running = rows.filter((r) => !isFinished(r.phase)).length;
    const parts = [this.#total === undefined ? `${done} done` : `${done}/${this.#total} done`];
    if (running > 0) parts.push(`${running} in progress`);
    if (this.#total !== undefined && this.#total > this.#rows.size) {
      parts.push(`${this.#total - this.#rows.size} waiting`);
    }
    if (failed > 0) parts.push(this.#style.red(`${failed} failed`));
    parts.push(formatDuration(now - this.#since));
    return `  ${this.#style.dim(parts.join(" · "))}`;
  }

  /**
   * The frame: every row and the footer, or, when they do not fit the terminal's height, the finished ones
   * folded into one summary line (failures stay visible) and the rest cut with a count. The last frame
   * (`whole`) has no footer: the command's own verdict follows it.
   */
  #lines(whole: boolean): string[] {
    const width = Math.max(40, (this.#out.columns || 100) - 1);
    const now = Date.now();
    const footer = whole ? undefined : this.#footer(now);
    const body = this.#body(whole, width, now, footer ? 1 : 0);
    return footer ? [...body, footer] : body;
  }

  #body(whole: boolean, width: number, now: number, reserved: number): string[] {
    const rows = [...this.#rows];
    const nameWidth = Math.max(0, ...rows.map(([k]) => k.length));
    const max = whole ? Number.POSITIVE_INFINITY : Math.max(3, (this.#out.rows || 1000) - 2 - reserved);
    if (rows.length <= max) return rows.map(([k, r]) => this.#line(k, r, nameWidth, width, now));
    const fold = rows.filter(([, r]) => r.phase === "done" || r.phase === "skipped");
    const folded = new Set(fold.slice(0, Math.min(fold.length, rows.length - max + 1)).map(([k]) => k));
    const shown = rows.filter(([k]) => !folded.has(k));
    const lines = [
      `  ${this.#style.green("✓")} ${this.#style.dim(`${folded.size} more finished`)}`,
      ...shown.map(([k, r]) => this.#line(k, r, nameWidth, width, now)),
    ];
    if (lines.length <= max) return lines;
    return [
      ...lines.slice(0, max - 1),
      `  ${this.#style.dim(`… and ${lines.length - max + 1} more in progress`)}`,
    ];
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
    if (event.type === "info") {
      this.note(this.#style.dim(`Note: ${event.message}`));
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

  settle(): void {}

  interrupted(): void {}
  expect(): void {}

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
  settle(): void {}
  interrupted(): void {}
  expect(): void {}
  stop(): void {}
}

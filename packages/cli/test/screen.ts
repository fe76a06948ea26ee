/**
 * A minimal terminal for renderer tests: applies what the live view writes (text, `\n`, `\r`, cursor up
 * `ESC[nA`, erase to end of screen `ESC[0J`, colours ignored) to a grid of lines, so a test reads the screen a
 * person would see, with every leftover line and every overwrite, instead of the raw escape sequences.
 */
export class Screen {
  readonly lines: string[] = [""];
  #row = 0;
  #col = 0;

  /** A writer for the renderer under test; `columns`/`rows` are the terminal size it may use. */
  writer(columns = 80, rows = 50): { write: (s: string) => void; columns: number; rows: number } {
    return { write: (s: string) => this.write(s), columns, rows };
  }

  /** Applies one write. */
  write(text: string): void {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what this parses.
    const tokens = text.match(/\x1b\[[0-9;]*[A-Za-z]|\n|\r|[^\x1b\n\r]+/g) ?? [];
    for (const t of tokens) {
      if (t === "\n") {
        this.#row++;
        this.#col = 0;
        while (this.lines.length <= this.#row) this.lines.push("");
      } else if (t === "\r") {
        this.#col = 0;
      } else if (t.startsWith("\x1b[")) {
        const n = Number(t.slice(2, -1) || "0");
        const op = t.at(-1);
        if (op === "A") this.#row = Math.max(0, this.#row - (n || 1));
        else if (op === "J" && n === 0) {
          this.lines[this.#row] = (this.lines[this.#row] ?? "").slice(0, this.#col);
          this.lines.length = this.#row + 1;
        } else if (op !== "m") throw new Error(`unexpected escape sequence ${JSON.stringify(t)}`);
      } else {
        const line = this.lines[this.#row] ?? "";
        this.lines[this.#row] =
          line.slice(0, this.#col).padEnd(this.#col) + t + line.slice(this.#col + t.length);
        this.#col += t.length;
      }
    }
  }

  /** The screen's text, without the empty line the cursor sits on after a final newline. */
  text(): string {
    return this.lines.join("\n").replace(/\n$/, "");
  }
}

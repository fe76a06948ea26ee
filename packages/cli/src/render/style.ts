import { stripVTControlCharacters } from "node:util";

/** ANSI styling that turns itself off for NO_COLOR, --no-color and non-terminals. */

/** Colour functions; identity functions when colours are off. */
export interface Style {
  readonly enabled: boolean;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
  magenta(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const plain = (s: string) => s;

/** Colours are on only on a terminal, without `--no-color`, and without `NO_COLOR` (https://no-color.org). */
export const colorsEnabled = (
  isTTY: boolean,
  flag: boolean,
  env: Readonly<Record<string, string | undefined>>,
): boolean => isTTY && flag && !(env.NO_COLOR !== undefined && env.NO_COLOR !== "");

/** A style with colours on or off. */
export const makeStyle = (enabled: boolean): Style =>
  enabled
    ? {
        enabled,
        green: wrap(32, 39),
        yellow: wrap(33, 39),
        red: wrap(31, 39),
        cyan: wrap(36, 39),
        magenta: wrap(35, 39),
        bold: wrap(1, 22),
        dim: wrap(2, 22),
      }
    : {
        enabled,
        green: plain,
        yellow: plain,
        red: plain,
        cyan: plain,
        magenta: plain,
        bold: plain,
        dim: plain,
      };

/** Visible width of a string, ignoring ANSI escapes. */
export const visibleWidth = (s: string): number => stripVTControlCharacters(s).length;

/** Pads to a visible width. */
export const pad = (s: string, width: number): string => s + " ".repeat(Math.max(0, width - visibleWidth(s)));

/** Renders rows as aligned columns, two spaces apart; the last column is not padded. */
export const table = (rows: readonly (readonly string[])[], indent = ""): string => {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, visibleWidth(cell));
  }
  return rows
    .map((row) =>
      (
        indent + row.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i] ?? 0))).join("  ")
      ).trimEnd(),
    )
    .join("\n");
};

/** `1m 05s`, `12.3s`, `850ms`. */
export const formatDuration = (ms: number): string => {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${m}m ${String(s).padStart(2, "0")}s`;
};

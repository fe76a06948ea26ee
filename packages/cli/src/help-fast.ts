import { readFileSync } from "node:fs";
import { distDir } from "./dist-dir.js";

/**
 * `k3sinfra --help` (and a command's help) without loading commander: the help texts commander renders, kept in
 * dist/help.json by the build (`write-help-snapshot.ts`), printed when they are certainly what commander would
 * print now. They are not when the program changed since (the snapshot's key is a hash of the built modules the
 * help is made of), or when commander would wrap at a width the snapshot lacks (it wraps at the terminal's width,
 * 100 columns when stdout is not a terminal; the snapshot has the unwrapped text and HELP_WIDTHS): commander
 * renders it then.
 */

/**
 * The built modules the help text is made of (relative to dist/). Not package.json: packing rewrites it, and the
 * help shows nothing from it.
 */
export const HELP_SOURCES = ["program.js", "commands/init-template.js", "exit-codes.js", "version.js"];

/** Common terminal widths (and 100, what the CLI uses when stdout is not a terminal) the snapshot renders at. */
export const HELP_WIDTHS = [80, 100, 120, 160] as const;

/** Help for one command ("" = the program): unwrapped, the width from which it needs no wrapping, and wrapped. */
export interface HelpEntry {
  readonly wide: string;
  readonly wideFrom: number;
  /** At each of HELP_WIDTHS narrower than `wideFrom`. */
  readonly at: Readonly<Record<string, string>>;
}

/** What dist/help.json holds. */
export interface HelpSnapshot {
  readonly key: string;
  readonly commands: Readonly<Record<string, HelpEntry>>;
}

/** FNV-1a over the help's sources: cheap enough to check on every `--help`. */
export const helpKey = (dir: URL): string => {
  let hash = 0x811c9dc5;
  for (const file of HELP_SOURCES) {
    const text = `${readFileSync(new URL(file, dir), "utf8")}\0`;
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
  }
  return hash.toString(16).padStart(8, "0");
};

const isHelpFlag = (arg: string | undefined) => arg === "--help" || arg === "-h";

/** The command whose help `args` ask for ("" = the program's), or undefined when they ask for something else. */
export const helpRequest = (args: readonly string[]): string | undefined => {
  if (args.length === 1 && (isHelpFlag(args[0]) || args[0] === "help")) return "";
  if (args.length === 2 && args[0] === "help" && !args[1]?.startsWith("-")) return args[1];
  if (args.length === 2 && isHelpFlag(args[1]) && !args[0]?.startsWith("-")) return args[0];
  return undefined;
};

/** dist/help.json, when it was rendered from the modules `dir` holds now. */
export const readHelpSnapshot = (dir: URL): HelpSnapshot | undefined => {
  try {
    const snapshot = JSON.parse(readFileSync(new URL("help.json", dir), "utf8")) as HelpSnapshot;
    return snapshot.key === helpKey(dir) ? snapshot : undefined;
  } catch {
    return undefined; // not built (running from the sources) or unreadable: commander answers
  }
};

/** The snapshot's text for `args` at `columns` (undefined: not a terminal), when it has it. */
export const pickHelp = (
  commands: HelpSnapshot["commands"],
  args: readonly string[],
  columns: number | undefined,
): string | undefined => {
  const command = helpRequest(args);
  if (command === undefined || !Object.hasOwn(commands, command)) return undefined;
  const entry = commands[command] as HelpEntry;
  const width = columns ?? 100;
  return width >= entry.wideFrom ? entry.wide : entry.at[width];
};

/** The help text for `args` at `columns` (undefined: not a terminal), when the snapshot certainly has it. */
export const fastHelp = (
  args: readonly string[],
  columns: number | undefined,
  dir: URL = distDir(import.meta.url),
): string | undefined => {
  if (helpRequest(args) === undefined) return undefined;
  const snapshot = readHelpSnapshot(dir);
  return snapshot && pickHelp(snapshot.commands, args, columns);
};

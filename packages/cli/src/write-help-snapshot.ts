// Run by the build after `tsc -b` (`pnpm build`, the CLI's prepack, `pnpm k3sinfra` when stale): renders every
// help text with commander and writes dist/help.json, which `k3sinfra --help` prints without loading commander.
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { CommanderError } from "commander";
import { HELP_WIDTHS, type HelpEntry, type HelpSnapshot, helpKey } from "./help-fast.js";
import { buildProgram } from "./program.js";

/** The help commander prints for `args` when stdout is `columns` wide. */
export const renderHelp = (args: readonly string[], columns: number): string => {
  let out = "";
  const sink = { write: (s: string) => (out += s), columns };
  const program = buildProgram({ stdout: sink, stderr: sink, env: {}, isTTY: false }, async () => {});
  try {
    program.parse(["node", "k3sinfra", ...args]);
  } catch (error) {
    if (!(error instanceof CommanderError && error.exitCode === 0)) throw error;
  }
  return out;
};

/** Every command's help, unwrapped and at HELP_WIDTHS. */
export const helpTexts = (): HelpSnapshot["commands"] => {
  const names = [
    "",
    ...buildProgram(
      { stdout: { write: () => 0 }, stderr: { write: () => 0 }, env: {}, isTTY: false },
      async () => {},
    ).commands.map((c) => c.name()),
  ];
  const commands: Record<string, HelpEntry> = {};
  for (const name of names) {
    const args = name ? [name, "--help"] : ["--help"];
    const wide = renderHelp(args, 100_000);
    // At any width from its longest line on, commander wraps nothing: the text is the unwrapped one.
    const wideFrom = Math.max(...wide.split("\n").map((line) => line.length));
    const at: Record<string, string> = {};
    for (const width of HELP_WIDTHS) if (width < wideFrom) at[width] = renderHelp(args, width);
    commands[name] = { wide, wideFrom, at };
  }
  return commands;
};

/** The snapshot of the built program in `dir`, keyed by the modules it was rendered from. */
export const helpSnapshot = (dir: URL = new URL(".", import.meta.url)): HelpSnapshot => ({
  key: helpKey(dir),
  commands: helpTexts(),
});

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(new URL("help.json", import.meta.url), `${JSON.stringify(helpSnapshot())}\n`);
}

import { CommanderError } from "commander";
import { ExitCode } from "./exit-codes.js";
import { type CliIo, processIo } from "./io.js";
import { buildProgram } from "./program.js";
import type { GlobalFlags } from "./session.js";

// What the bin needs beside `main`, through the one import it makes (bin.ts).
export { processIo } from "./io.js";
export { onInterrupt } from "./signals.js";

// Core (through the session and the error renderer) is imported only once a command runs or fails, so help,
// the version and usage errors load commander and the program alone.
const loadRuntime = () => import("./runtime.js");

/**
 * Runs the CLI on `argv` (as `process.argv`: node, script, then arguments) and resolves to the exit code.
 * Everything goes through `io`, so tests run it in-process; nothing here calls `process.exit`.
 */
export const main = async (argv: readonly string[], io: CliIo = processIo()): Promise<number> => {
  let exitCode: number = ExitCode.Success;
  const program = buildProgram(io, async (cmd, run) => {
    const { Session, errorJson, exitCodeFor, renderError } = await loadRuntime();
    const session = new Session(io, cmd.optsWithGlobals<GlobalFlags>());
    try {
      exitCode = await run(session);
    } catch (error) {
      // An interruption exits with the code of the signal that caused it (130, 143, 129).
      exitCode = exitCodeFor(error, io.signal);
      io.stderr.write(
        renderError(error, session.style, session.debug, {
          configPath: session.displayConfigPath,
          stateFlags: session.stateFlags,
          ...(io.signal ? { signal: io.signal } : {}),
        }),
      );
      if (session.flags.json) session.printJson(errorJson(error, io.signal));
    }
  });
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help (`--help`, `help <command>`) and version are successes; everything else commander rejects is a
      // usage error, help shown for want of a command (`k3sinfra` alone) included.
      const shown = ["commander.helpDisplayed", "commander.help", "commander.version"];
      if (shown.includes(error.code) && error.exitCode === 0) return ExitCode.Success;
      // commander already printed the message on stderr; --json callers also get it as the result.
      if (argv.includes("--json")) {
        const message = error.message.replace(/^error: /, "");
        const body = { error: { code: "Usage", message, exitCode: ExitCode.Usage } };
        io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
      }
      return ExitCode.Usage;
    }
    const { renderError, colorsEnabled, makeStyle } = await loadRuntime();
    const style = makeStyle(colorsEnabled(io.isTTY, !argv.includes("--no-color"), io.env));
    io.stderr.write(renderError(error, style, io.env.K3SINFRA_DEBUG === "1"));
    return ExitCode.Failure;
  }
  return exitCode;
};

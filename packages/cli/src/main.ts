import { CommanderError } from "commander";
import { ExitCode } from "./exit-codes.js";
import { type CliIo, processIo } from "./io.js";
import { buildProgram } from "./program.js";
import { errorJson, exitCodeFor, renderError } from "./render/errors.js";
import { colorsEnabled, makeStyle } from "./render/style.js";
import { type GlobalFlags, Session } from "./session.js";

/**
 * Runs the CLI on `argv` (as `process.argv`: node, script, then arguments) and resolves to the exit code.
 * Everything goes through `io`, so tests run it in-process; nothing here calls `process.exit`.
 */
export const main = async (argv: readonly string[], io: CliIo = processIo()): Promise<number> => {
  let exitCode: number = ExitCode.Success;
  const program = buildProgram(io, async (cmd, run) => {
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
      // Help and version are successes; everything else commander rejects is a usage error.
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version")
        return ExitCode.Success;
      // commander already printed the message on stderr; --json callers also get it as the result.
      if (argv.includes("--json")) {
        const message = error.message.replace(/^error: /, "");
        const body = { error: { code: "Usage", message, exitCode: ExitCode.Usage } };
        io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
      }
      return ExitCode.Usage;
    }
    const style = makeStyle(colorsEnabled(io.isTTY, !argv.includes("--no-color"), io.env));
    io.stderr.write(renderError(error, style, io.env.K3SINFRA_DEBUG === "1"));
    return ExitCode.Failure;
  }
  return exitCode;
};

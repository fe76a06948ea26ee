import {
  AbortedError,
  type InvalidConfigError,
  K3sinfraError,
  type LockHeldError,
  type PartialFailureError,
} from "@k3sinfra/core";
import { ExitCode, type ExitCodeValue } from "../exit-codes.js";
import { STOP_SIGNALS, stoppedBy } from "../signals.js";
import type { Style } from "./style.js";

/** A usage problem found by the CLI itself (bad flag combination, a file that would be overwritten). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The user answered no at a confirmation prompt. */
export class DeclinedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeclinedError";
  }
}

/** Ctrl-C at a confirmation prompt: an interruption (exit 130), but before anything was changed. */
export class PromptInterruptedError extends AbortedError {
  constructor() {
    super("Interrupted at the confirmation prompt; nothing was changed.");
  }
}

/**
 * The exit code for an error, as documented in docs/cli.md, from its code alone (never its message); an
 * interruption takes the code of the signal that aborted `signal` (SIGTERM 143, SIGHUP 129), else 130.
 */
export const exitCodeFor = (error: unknown, signal?: AbortSignal): ExitCodeValue => {
  if (error instanceof UsageError) return ExitCode.Usage;
  if (!K3sinfraError.is(error)) return ExitCode.Failure;
  switch (error.code) {
    case "InvalidConfig":
      return ExitCode.Usage;
    case "LockHeld":
    case "StateConflict":
      return ExitCode.Locked;
    case "PartialFailure":
      return ExitCode.Partial;
    case "PlanRefused":
      return ExitCode.PlanRefused;
    case "Aborted": {
      const stop = stoppedBy(signal);
      return stop ? STOP_SIGNALS[stop] : ExitCode.Interrupted;
    }
    default:
      return ExitCode.Failure;
  }
};

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * A person-readable error: each config issue on its own line with its path (and the file's, when known), the lock holder with the
 * force-unlock hint, a code and message for other SDK errors, and the stack only with K3SINFRA_DEBUG=1.
 * Core's errors never carry secrets; this prints messages only, never causes' payloads.
 */
export const renderError = (
  error: unknown,
  style: Style,
  debug: boolean,
  context: {
    readonly configPath?: string;
    /** Flags a follow-up command needs to reach the same state (`--config x`, `--emulate`). */
    readonly stateFlags?: string;
    /** The run's signal: its abort reason says which stop signal interrupted it. */
    readonly signal?: AbortSignal;
  } = {},
): string => {
  const x = style.red("✗");
  const lines: string[] = [];
  if (error instanceof UsageError) {
    // Each usage message says what to do itself; a generic pointer to --help would only bury it.
    lines.push(`${style.red("Error:")} ${error.message}`);
  } else if (error instanceof DeclinedError) {
    lines.push(error.message);
  } else if (K3sinfraError.is(error, "InvalidConfig")) {
    const issues = (error as InvalidConfigError).issues ?? [];
    const file = context.configPath ? ` ${style.bold(context.configPath)}` : "";
    lines.push(`${style.red("Error:")} the config${file} is invalid:`);
    for (const i of issues) lines.push(`  ${x} ${style.bold(i.path || "(root)")}: ${i.message}`);
    if (issues.length === 0) lines.push(`  ${x} ${error.message}`);
  } else if (K3sinfraError.is(error, "LockHeld")) {
    const id = lockIdOf(error as LockHeldError);
    lines.push(`${style.red("Error [LockHeld]:")} ${(error as LockHeldError).message}`);
    // Core's message names the id; the command to copy must also reach the same state (--config, --emulate).
    lines.push(
      id
        ? `Only if that run is gone: ${style.bold(`k3sinfra force-unlock ${id}${context.stateFlags ?? ""}`)}`
        : "Another k3sinfra run is working on this cluster. Wait for it to finish; if it crashed, release the lock with `k3sinfra force-unlock <lock-id>`.",
    );
  } else if (K3sinfraError.is(error, "PartialFailure") && stoppedByProtection(error as PartialFailureError)) {
    // Not a failure to investigate: destroy did what the listing before the prompt announced.
    lines.push(
      `${style.yellow("Destroy stopped at the datastore:")} it has deletion protection on (datastore.deletionProtection). ` +
        "Everything that does not depend on it is deleted.",
      `To delete the database and its data too: ${style.bold(`k3sinfra destroy --allow-protected${context.stateFlags ?? ""}`)}`,
    );
  } else if (K3sinfraError.is(error, "PartialFailure")) {
    lines.push(`${style.red("Error [PartialFailure]:")} ${(error as PartialFailureError).message}`);
  } else if (error instanceof PromptInterruptedError) {
    // The cursor is still on the prompt line, after the terminal's ^C.
    lines.push(`\n${style.yellow("Interrupted")} at the confirmation prompt; nothing was changed.`);
  } else if (K3sinfraError.is(error, "Aborted")) {
    const stop = stoppedBy(context.signal);
    const what = stop && stop !== "SIGINT" ? `Stopped by ${stop}.` : "Interrupted.";
    lines.push(
      `${style.yellow(what)} State keeps every resource that finished; run the same command again to resume.`,
    );
  } else if (K3sinfraError.is(error)) {
    lines.push(`${style.red(`Error [${error.code}]:`)} ${withStateFlags(error.message, context.stateFlags)}`);
    if (error.retryable) lines.push("This error is transient; running the command again may succeed.");
  } else {
    lines.push(`${style.red("Error:")} ${message(error)}`);
    if (!debug) lines.push(style.dim("Set K3SINFRA_DEBUG=1 to see the stack trace."));
  }
  if (debug && error instanceof Error && error.stack) lines.push("", style.dim(error.stack));
  return `${lines.join("\n")}\n`;
};

const STATE_COMMANDS = "up|plan|status|outputs|destroy|verify|force-unlock|graph";

/**
 * Core's messages suggest commands (`k3sinfra up` first); to be copied as they are, those that read this
 * cluster's state carry this run's `--config`/`--emulate`, or they would look at another file or the real cloud.
 */
export const withStateFlags = (message: string, stateFlags: string | undefined): string =>
  stateFlags
    ? message.replace(
        new RegExp(`\`k3sinfra (${STATE_COMMANDS})((?: [^\`]*)?)\``, "g"),
        (whole, command: string, rest: string) =>
          /--emulate|--config/.test(rest) ? whole : `\`k3sinfra ${command}${rest}${stateFlags}\``,
      )
    : message;

/** A destroy whose only failure is the datastore refusing deletion because of its deletion protection. */
const stoppedByProtection = (error: PartialFailureError): boolean =>
  error.failures.length > 0 &&
  error.failures.every((f) => f.resource === "datastore" && K3sinfraError.is(f.error, "DeletionProtected"));

/** The lock id `force-unlock` takes, as core reports it with the error. */
const lockIdOf = (error: LockHeldError): string | undefined => error.lock?.id;

/** The `--json` form of an error (stdout), with issues and lock details where they apply. */
export const errorJson = (error: unknown, signal?: AbortSignal): Record<string, unknown> => {
  const base: Record<string, unknown> = {
    code: K3sinfraError.is(error) ? error.code : error instanceof UsageError ? "Usage" : "Error",
    message: message(error),
    exitCode: exitCodeFor(error, signal),
  };
  if (K3sinfraError.is(error, "InvalidConfig")) base.issues = (error as InvalidConfigError).issues;
  if (K3sinfraError.is(error, "LockHeld")) {
    const id = lockIdOf(error as LockHeldError);
    if (id) base.lockId = id;
  }
  if (K3sinfraError.is(error, "PartialFailure")) {
    base.failures = (error as PartialFailureError).failures.map((f) => ({
      resource: f.resource,
      message: message(f.error),
    }));
  }
  return { error: base };
};

/** The CLI's exit codes; documented in docs/cli.md and in `--help`. */
export const ExitCode = {
  /** The command did what was asked. */
  Success: 0,
  /** It failed; nothing more specific applies (cloud error, auth, timeout, declined confirmation). */
  Failure: 1,
  /** Invalid usage or an invalid config: fix the command line or the file. */
  Usage: 2,
  /** Another run holds the state lock, or changed the state under this one (`StateConflict`). */
  Locked: 3,
  /** Some resources were done, others failed: state keeps what finished, re-run to resume. */
  Partial: 4,
  /** The plan was refused, e.g. it would change the Rancher hostname. */
  PlanRefused: 5,
  /** `plan --detailed-exitcode` only: the plan has changes (drift or config); 0 then means none. */
  Changes: 6,
  /** Interrupted (Ctrl-C, SIGINT): state keeps what finished, re-run to resume. */
  Interrupted: 130,
  /** Stopped by SIGHUP (the terminal closed), like Ctrl-C: state keeps what finished, the lock is released. */
  HangUp: 129,
  /** Stopped by SIGTERM (`kill`, systemd, Docker), like Ctrl-C: state keeps what finished, the lock is released. */
  Terminated: 143,
} as const;

/** One of the codes above. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The `--help` epilog listing the codes. */
export const exitCodeHelp = `Exit codes:
  0    success
  1    failure
  2    invalid usage or config
  3    state locked by another run (see force-unlock)
  4    partial failure: some resources done, re-run to resume
  5    plan refused (e.g. the Rancher hostname would change)
  6    plan --detailed-exitcode: there are changes (0: none)
  129  stopped by SIGHUP, 130 interrupted (Ctrl-C), 143 stopped by SIGTERM: state keeps
       what finished and the lock is released; a second signal exits at once`;

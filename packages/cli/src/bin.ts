#!/usr/bin/env node
// Start-up is part of the interface: `k3sinfra --version` and `--help` (and a command's help) load this file,
// its two fast paths and node:fs alone; other help and usage errors load commander and the program; core, the
// providers, the SDKs and the emulator are imported only by the command that runs (core brings the Reflect
// metadata polyfill tsyringe needs).
import { fastHelp } from "./help-fast.js";
import { fastVersion } from "./version.js";

const args = process.argv.slice(2);
// `--version`, then help from the build's snapshot of what commander prints (help-fast.ts); else the program.
const answer = fastVersion(args) ?? fastHelp(args, process.stdout.columns);
if (answer !== undefined) {
  process.stdout.write(answer);
} else {
  await run();
}

async function run(): Promise<never> {
  // One dynamic import: the built CLI loads one file for it (scripts/bundle.mjs splits at each).
  const { processIo, main, onInterrupt } = await import("./main.js");
  // `pnpm k3sinfra` runs from the repository root; K3SINFRA_CWD (the root script sets it from INIT_CWD) is where
  // the user was, so a relative --config means what they typed.
  if (process.env.K3SINFRA_CWD) process.chdir(process.env.K3SINFRA_CWD);

  const controller = new AbortController();
  // Ctrl-C, `kill` (systemd, Docker) and a closed terminal all stop the run the same way: no new work, state
  // keeps what finished, the lock is released; the running command prints the notice through its progress view.
  const stop = onInterrupt(controller, { exit: (code) => process.exit(code) });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, stop);
  // After SIGHUP the terminal is gone and writing to it fails (EIO, EPIPE); losing that output must not crash
  // the run before it has recorded its work and released the lock.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EIO" && error.code !== "EPIPE") throw error;
    });
  }

  const code = await main(process.argv, { ...processIo(), signal: controller.signal });
  // Writes to pipes and files are synchronous on POSIX, so exiting here loses no output; it also stops idle
  // keep-alive sockets of cloud SDK clients from holding the process open.
  process.exit(code);
}

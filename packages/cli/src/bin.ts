#!/usr/bin/env node
// tsyringe needs the Reflect metadata polyfill before any decorated class is evaluated.
import "reflect-metadata";
import { processIo } from "./io.js";
import { main } from "./main.js";
import { onInterrupt } from "./signals.js";

// `pnpm k3sinfra` runs from the repository root; K3SINFRA_CWD (the root script sets it from INIT_CWD) is where
// the user was, so a relative --config means what they typed.
if (process.env.K3SINFRA_CWD) process.chdir(process.env.K3SINFRA_CWD);

const controller = new AbortController();
// The running command prints the notice (signals.ts INTERRUPT_NOTICE) through its progress view.
process.on("SIGINT", onInterrupt(controller, { exit: (code) => process.exit(code) }));

const code = await main(process.argv, { ...processIo(), signal: controller.signal });
// Writes to pipes and files are synchronous on POSIX, so exiting here loses no output; it also stops idle
// keep-alive sockets of cloud SDK clients from holding the process open.
process.exit(code);

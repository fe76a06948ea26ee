#!/usr/bin/env node
// tsyringe needs the Reflect metadata polyfill before any decorated class is evaluated.
import "reflect-metadata";
import { processIo } from "./io.js";
import { main } from "./main.js";
import { onInterrupt } from "./signals.js";

const controller = new AbortController();
// The running command prints the notice (signals.ts INTERRUPT_NOTICE) through its progress view.
process.on("SIGINT", onInterrupt(controller, { exit: (code) => process.exit(code) }));

const code = await main(process.argv, { ...processIo(), signal: controller.signal });
// Writes to pipes and files are synchronous on POSIX, so exiting here loses no output; it also stops idle
// keep-alive sockets of cloud SDK clients from holding the process open.
process.exit(code);

#!/usr/bin/env node
// tsyringe needs the Reflect metadata polyfill before any decorated class is evaluated.
import "reflect-metadata";
import { processIo } from "./io.js";
import { main } from "./main.js";

// First Ctrl-C: abort through the AbortSignal, so resources in flight stop at their next wait and state keeps
// what finished. Second Ctrl-C: exit at once.
const controller = new AbortController();
process.on("SIGINT", () => {
  if (controller.signal.aborted) process.exit(130);
  process.stderr.write("\nStopping after the calls in flight; press Ctrl-C again to exit now.\n");
  controller.abort(new Error("interrupted (SIGINT)"));
});

const code = await main(process.argv, { ...processIo(), signal: controller.signal });
// Writes to pipes and files are synchronous on POSIX, so exiting here loses no output; it also stops idle
// keep-alive sockets of cloud SDK clients from holding the process open.
process.exit(code);

#!/usr/bin/env node
// The `k3sinfra` command: runs the built CLI (dist/bundle/bin.js, from `pnpm build`: tsc, then scripts/bundle.mjs;
// in the published package already built).
import module from "node:module";

// Node keeps the compiled code of the CLI and its dependencies between runs (in the OS temp directory, or
// NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off), which takes most of the parsing out of start-up.
module.enableCompileCache?.();
await import("../dist/bundle/bin.js");

#!/usr/bin/env node
// The `k3sinfra-emulator` command: runs the built emulator (dist/, from `pnpm build`; in the published package
// already built).
import module from "node:module";

// Node keeps compiled code between runs (in the OS temp directory, or NODE_COMPILE_CACHE; off with
// NODE_DISABLE_COMPILE_CACHE=1).
module.enableCompileCache?.();
await import("../dist/bin.js");

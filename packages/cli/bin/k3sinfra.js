#!/usr/bin/env node
// Runs the built CLI (`pnpm build` first); a committed shim so installs can link the bin before a build.
import "../dist/bin.js";

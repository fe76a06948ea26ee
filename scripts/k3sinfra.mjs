#!/usr/bin/env node
// `pnpm k3sinfra <args>`: the built CLI, exactly as an installed `k3sinfra` runs, built first when stale (see
// build-if-stale.mjs). K3SINFRA_CWD (the root script sets it from INIT_CWD) is where the user ran pnpm: the CLI
// moves there, so a relative --config means what they typed.
import { buildIfStale } from "./build-if-stale.mjs";

await buildIfStale("cli/dist/bundle/bin.js");
await import("../packages/cli/bin/k3sinfra.js");

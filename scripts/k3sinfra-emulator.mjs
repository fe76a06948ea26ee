#!/usr/bin/env node
// `pnpm k3sinfra-emulator <args>`: the built emulator's bin, exactly as an installed `k3sinfra-emulator` runs,
// built first when stale (see build-if-stale.mjs).
import { buildIfStale } from "./build-if-stale.mjs";

await buildIfStale("emulator/dist/bin.js");
await import("../packages/emulator/bin/k3sinfra-emulator.js");

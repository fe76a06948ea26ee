/**
 * What a command needs once it runs — the session, the error renderer and every command's body, which bring
 * core — behind one dynamic import (main.ts, program.ts), so help, the version and usage errors load none of it.
 * One boundary rather than one per command: the built CLI (scripts/bundle.mjs splits it at each dynamic import)
 * then loads a few files instead of some twenty.
 */
export * as apply from "./commands/apply.js";
export * as misc from "./commands/misc.js";
export * as read from "./commands/read.js";
export * as stateCommands from "./commands/state.js";
export { errorJson, exitCodeFor, renderError } from "./render/errors.js";
export { colorsEnabled, makeStyle } from "./render/style.js";
export { Session } from "./session.js";

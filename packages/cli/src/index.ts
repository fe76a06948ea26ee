// The CLI as a library: run `main` in-process with your own streams.
export { ExitCode, type ExitCodeValue } from "./exit-codes.js";
export type { CliIo, Writer } from "./io.js";
export { main } from "./main.js";

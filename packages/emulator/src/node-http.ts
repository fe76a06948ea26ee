/**
 * `node:http` and `node:https` through `require`, not `import`: an ES import of a built-in builds its namespace
 * from every export, and `node:http`'s lazy getters then load Node's bundled undici (its fetch), some 40 ms of a
 * CLI's start-up that uses none of it (seen in a CPU profile of `k3sinfra plan --emulate`). `require` returns the
 * module object, whose getters run only when read.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export const http: typeof import("node:http") = require("node:http");
/** `node:https` on first use: only a cloud served over TLS needs it (and it loads node:tls). */
export const https = (): typeof import("node:https") => require("node:https");

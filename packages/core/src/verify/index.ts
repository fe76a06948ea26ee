// Checks from the user's machine: DNS → LB, ports, 80 → 443 redirect, certificate, Rancher's /ping and server-url.
export type { ConnectTarget, VerifyCheck, VerifyInput, VerifyResolver } from "./types.js";
export { verifyCluster } from "./verify.js";

// Checks from the user's machine: DNS → LB, ports, certificate, Rancher's /ping.
export type { ConnectTarget, VerifyCheck, VerifyInput, VerifyResolver } from "./types.js";
export { verifyCluster } from "./verify.js";

import type { ResourceContext } from "@k3sinfra/core";
import { physicalName, resourceTags } from "@k3sinfra/core";
import { Hosts } from "../src/hosts.js";
import type { HostsOptions } from "../src/options.js";
import type { Lab } from "./lab.js";

/** The hosts provider's options for a lab, with host keys pinned by fingerprint. */
export const labOptions = (
  lab: Lab,
  database?: { adminUser: string; passwordEnv: string },
): HostsOptions => ({
  ssh: { user: "root", port: 22, privateKeyFile: lab.privateKeyFile, knownHosts: `${lab.dir}/known_hosts` },
  nodes: lab.nodes.map((h, i) => ({ address: h.ip, hostKey: h.fingerprint, zone: `rack-${i}` })),
  loadBalancer: { address: lab.lb.ip, hostKey: lab.lb.fingerprint },
  ...(database ? { datastore: { host: lab.mysql.host, port: lab.mysql.port, ...database } } : {}),
});

export const labHosts = (o: HostsOptions) => new Hosts(o, { privateKeyFile: o.ssh.privateKeyFile });

/** A resource context as the orchestrator gives one. */
export function ctxFor(
  cluster: string,
  resource: string,
  signal = new AbortController().signal,
): ResourceContext {
  return {
    cluster,
    resource,
    name: physicalName(cluster, resource),
    tags: resourceTags(cluster, resource),
    idempotencyToken: `${cluster}-${resource}`,
    region: "lab",
    signal,
    poll: { minDelayMs: 50, maxDelayMs: 200 },
    report: () => undefined,
  };
}

/** Polls `check` until true: bounded by attempts, not by a clock (a loaded machine is only slower). */
export async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  attempts = 1200,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen`);
}

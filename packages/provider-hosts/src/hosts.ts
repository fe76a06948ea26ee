import {
  AlreadyExistsError,
  InvalidConfigError,
  type ResourceContext,
  TAG_CLUSTER,
  type Tags,
} from "@k3sinfra/core";
import type { HostOptions, HostsOptions } from "./options.js";
import { type SshAuth, type SshSession, type SshTarget, shq, withSsh } from "./ssh/session.js";

/** Where k3sinfra keeps what it knows on a host: ownership records and published values (root only). */
export const STATE_ROOT = "/var/lib/k3sinfra";
/** Published late values, one 0600 file per key, read by `HOSTS_METADATA_READER`. */
export const METADATA_DIR = `${STATE_ROOT}/metadata`;

/** The ownership record of one role on one host: the cluster's tags and every path k3sinfra wrote there. */
export interface OwnerRecord {
  readonly tags: Tags;
  readonly name: string;
  /** Files written, removed on delete. */
  readonly files: readonly string[];
  /** Directories that did not exist before, removed (when empty) on delete, deepest first. */
  readonly dirs: readonly string[];
  /** Role-specific facts (the node's zone, the LB's targets). */
  readonly data?: Readonly<Record<string, unknown>>;
}

export type HostRole = "node" | "load-balancer" | "network";
export const ownerPath = (role: HostRole): string => `${STATE_ROOT}/owner-${role}.json`;

/** The configured hosts as SSH targets, and sessions to them. */
export class Hosts {
  constructor(
    readonly options: HostsOptions,
    readonly auth: SshAuth,
  ) {}

  private target(h: HostOptions, path: string): SshTarget {
    return {
      host: h.address,
      port: h.port ?? this.options.ssh.port,
      user: h.user ?? this.options.ssh.user,
      hostKey: h.hostKey ? { fingerprint: h.hostKey } : { knownHosts: this.options.ssh.knownHosts },
      path: `options.hosts.${path}`,
    };
  }

  /** The node host at `index`; a config with fewer hosts than nodes is refused. */
  node(index: number): SshTarget {
    const h = this.options.nodes[index];
    if (!h)
      throw new InvalidConfigError([
        {
          path: "options.hosts.nodes",
          message: `lists ${this.options.nodes.length} hosts; node ${index + 1} has none: add a host or lower nodes.count`,
        },
      ]);
    return this.target(h, `nodes[${index}]`);
  }

  nodeTargets(): SshTarget[] {
    return this.options.nodes.map((_, i) => this.node(i));
  }

  loadBalancer(): SshTarget {
    const h = this.options.loadBalancer;
    if (!h)
      throw new InvalidConfigError([
        { path: "options.hosts.loadBalancer", message: "is required: the NGINX host in front of the nodes" },
      ]);
    return this.target(h, "loadBalancer");
  }

  with<T>(
    target: SshTarget,
    ctx: Pick<ResourceContext, "signal" | "limit">,
    fn: (s: SshSession) => Promise<T>,
  ): Promise<T> {
    const call = () => withSsh(target, this.auth, fn, ctx.signal);
    return ctx.limit ? ctx.limit(call) : call();
  }
}

/** The ownership record of `role`, or `undefined`. */
export async function readOwner(s: SshSession, role: HostRole): Promise<OwnerRecord | undefined> {
  const text = await s.readFile(ownerPath(role));
  if (text === undefined) return undefined;
  return JSON.parse(text) as OwnerRecord;
}

export const tagsMatch = (have: Tags, want: Tags): boolean =>
  Object.entries(want).every(([k, v]) => have[k] === v);

/**
 * Claims the host for this cluster's resource, or adopts the claim an earlier run made. A host another
 * cluster owns is refused: destroy never touches another cluster's objects.
 */
export async function claim(
  s: SshSession,
  role: HostRole,
  ctx: ResourceContext,
  paths: readonly string[],
  data?: Record<string, unknown>,
): Promise<OwnerRecord> {
  const before = await readOwner(s, role);
  if (before && before.tags[TAG_CLUSTER] !== ctx.tags[TAG_CLUSTER])
    throw new AlreadyExistsError(
      `${s.target.host} (${s.target.path}) is already the ${role} of cluster '${before.tags[TAG_CLUSTER]}' (${ownerPath(role)}): use another host, or destroy that cluster first`,
    );
  // Directories of the new paths that do not exist yet, so delete leaves the host as it found it.
  const dirs = new Set<string>();
  for (const p of paths)
    for (let d = p.slice(0, p.lastIndexOf("/")); d.length > 1; d = d.slice(0, d.lastIndexOf("/")))
      dirs.add(d);
  dirs.add(STATE_ROOT);
  const list = [...dirs].sort((a, b) => b.length - a.length);
  const missing = (
    await s.run(
      "listing directories",
      `for d in ${list.map(shq).join(" ")}; do [ -d "$d" ] || printf '%s\\n' "$d"; done`,
    )
  )
    .split("\n")
    .filter((d) => d !== "");
  const record: OwnerRecord = {
    tags: ctx.tags,
    name: ctx.name,
    files: [...new Set([...(before?.files ?? []), ...paths])],
    dirs: [...new Set([...(before?.dirs ?? []), ...missing])].sort((a, b) => b.length - a.length),
    ...(data || before?.data ? { data: { ...before?.data, ...data } } : {}),
  };
  // Written before anything else, so a crash right after still leaves the host findable and cleanable.
  await s.writeFile(ownerPath(role), JSON.stringify(record), "0600");
  return record;
}

/** Removes what the record lists, then the record; empty directories we created go too. */
export async function release(s: SshSession, role: HostRole, record: OwnerRecord): Promise<void> {
  const files = record.files.map(shq).join(" ");
  const dirs = record.dirs.map(shq).join(" ");
  await s.run(
    `removing what k3sinfra wrote (${role})`,
    `rm -f ${files || "/nonexistent"} ${shq(ownerPath(role))}; for d in ${dirs || "/nonexistent"}; do rmdir "$d" 2>/dev/null || true; done`,
  );
}

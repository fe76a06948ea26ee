import { homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";
import type { ConfigIssue } from "@k3sinfra/core";

/** One existing host reached over SSH. */
export interface HostOptions {
  /** Address we connect to over SSH (IP or DNS name). */
  readonly address: string;
  /** SSH port; default `ssh.port`. */
  readonly port?: number | undefined;
  /** SSH user; default `ssh.user`. Not root: it needs passwordless sudo. */
  readonly user?: string | undefined;
  /** The host key's fingerprint (`SHA256:…`, `ssh-keygen -lf`); else `ssh.knownHosts` must list it. */
  readonly hostKey?: string | undefined;
  /** Zone (rack, room, site) the host is in; default the config's zones in turn. */
  readonly zone?: string | undefined;
}

/** The NGINX host in front of the nodes. */
export interface LoadBalancerHostOptions extends HostOptions {
  /** The address clients reach it at, which the DNS record holds; default `address`. */
  readonly publicAddress?: string | undefined;
}

/** An existing MySQL or MariaDB server. */
export interface DatastoreHostOptions {
  /** Host name or IP the nodes (and this machine) reach it at. */
  readonly host: string;
  readonly port: number;
  /** A user allowed to create databases and users (and grant on them). */
  readonly adminUser: string;
  /** Name of the environment variable that holds the admin's password (the password is never in the config). */
  readonly passwordEnv: string;
  /** PEM file of the CA that signed the server's certificate: connections are then TLS, verified. */
  readonly caFile?: string | undefined;
}

/** `options.hosts` in the config. */
export interface HostsOptions {
  readonly ssh: {
    readonly user: string;
    readonly port: number;
    /** A private key file (absolute once parsed); unset: the SSH agent only. */
    readonly privateKeyFile?: string | undefined;
    /** known_hosts file used for hosts without `hostKey` (absolute once parsed). */
    readonly knownHosts: string;
  };
  readonly nodes: readonly HostOptions[];
  readonly loadBalancer?: LoadBalancerHostOptions | undefined;
  readonly datastore?: DatastoreHostOptions | undefined;
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^[0-9a-fA-F:]+$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const ENV = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MYSQL_USER = /^[A-Za-z0-9_]{1,32}$/;

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);
const expand = (p: string): string => (p.startsWith("~/") ? resolve(homedir(), p.slice(2)) : p);

/**
 * Validates `options.hosts`. Relative paths stay relative here (resolved against the config's directory by
 * `resolvePaths`); issue paths are relative to the block.
 */
export function parseHostsOptions(
  raw: unknown,
): { ok: true; value: HostsOptions } | { ok: false; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  if (!isObject(raw)) {
    add("", "is required: the hosts to use (nodes, loadBalancer, datastore); see examples/hosts.yaml");
    return { ok: false, issues };
  }
  const ssh = isObject(raw.ssh) ? raw.ssh : {};
  const sshUser = typeof ssh.user === "string" ? ssh.user : "root";
  if (!USER.test(sshUser)) add("ssh.user", "must be a Unix user name");
  const sshPort = ssh.port ?? 22;
  const port = (p: unknown, path: string): number => {
    if (!(typeof p === "number" && Number.isInteger(p) && p > 0 && p < 65536))
      add(path, "must be a TCP port (1-65535)");
    return p as number;
  };
  port(sshPort, "ssh.port");
  for (const key of ["privateKeyFile", "knownHosts"] as const)
    if (ssh[key] !== undefined && (typeof ssh[key] !== "string" || ssh[key] === ""))
      add(`ssh.${key}`, "must be a file path");
  const host = (v: unknown, path: string): HostOptions | undefined => {
    if (!isObject(v)) {
      add(path, "must be an object with at least address");
      return undefined;
    }
    if (typeof v.address !== "string" || !HOST.test(v.address))
      add(`${path}.address`, "must be a host name or IP address");
    if (v.port !== undefined) port(v.port, `${path}.port`);
    if (v.user !== undefined && (typeof v.user !== "string" || !USER.test(v.user)))
      add(`${path}.user`, "must be a Unix user name");
    if (v.hostKey !== undefined && (typeof v.hostKey !== "string" || !FINGERPRINT.test(v.hostKey)))
      add(
        `${path}.hostKey`,
        "must be an SSH fingerprint such as SHA256:… (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host)",
      );
    if (v.zone !== undefined && (typeof v.zone !== "string" || v.zone === ""))
      add(`${path}.zone`, "must be a zone name");
    if (v.publicAddress !== undefined && (typeof v.publicAddress !== "string" || !HOST.test(v.publicAddress)))
      add(`${path}.publicAddress`, "must be a host name or IP address");
    return v as unknown as HostOptions;
  };
  const nodes: HostOptions[] = [];
  if (!Array.isArray(raw.nodes) || raw.nodes.length === 0)
    add("nodes", "is required: the existing hosts K3s runs on, one per node (nodes.count)");
  else for (const [i, n] of raw.nodes.entries()) nodes.push(host(n, `nodes[${i}]`) as HostOptions);
  const seen = new Set<string>();
  nodes.forEach((n, i) => {
    const key = `${n?.address}:${n?.port ?? sshPort}`;
    if (seen.has(key))
      add(`nodes[${i}].address`, `${n.address} is listed twice: each node is a different host`);
    seen.add(key);
  });
  const loadBalancer =
    raw.loadBalancer === undefined
      ? undefined
      : (host(raw.loadBalancer, "loadBalancer") as LoadBalancerHostOptions);
  let datastore: DatastoreHostOptions | undefined;
  if (raw.datastore !== undefined) {
    const d = isObject(raw.datastore) ? raw.datastore : {};
    if (typeof d.host !== "string" || !HOST.test(d.host))
      add("datastore.host", "must be the MySQL server's host name or IP address");
    const dport = d.port ?? 3306;
    port(dport, "datastore.port");
    if (typeof d.adminUser !== "string" || !MYSQL_USER.test(d.adminUser))
      add(
        "datastore.adminUser",
        "must be a MySQL user allowed to create databases and users (letters, digits, _)",
      );
    if (typeof d.passwordEnv !== "string" || !ENV.test(d.passwordEnv))
      add(
        "datastore.passwordEnv",
        "must name the environment variable holding the admin password, e.g. K3SINFRA_MYSQL_PASSWORD",
      );
    if (d.caFile !== undefined && (typeof d.caFile !== "string" || d.caFile === ""))
      add("datastore.caFile", "must be a PEM file path");
    datastore = { ...(d as unknown as DatastoreHostOptions), port: dport as number };
  }
  for (const key of Object.keys(raw))
    if (!["ssh", "nodes", "loadBalancer", "datastore"].includes(key))
      add(key, "is not an option of the hosts provider");
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    value: {
      ssh: {
        user: sshUser,
        port: sshPort as number,
        ...(typeof ssh.privateKeyFile === "string" ? { privateKeyFile: expand(ssh.privateKeyFile) } : {}),
        knownHosts: expand(typeof ssh.knownHosts === "string" ? ssh.knownHosts : "~/.ssh/known_hosts"),
      },
      nodes,
      loadBalancer,
      datastore,
    },
  };
}

/** The options with relative paths resolved against the config's directory. */
export function resolvePaths(o: HostsOptions, baseDir: string): HostsOptions {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    ...o,
    ssh: {
      ...o.ssh,
      knownHosts: abs(o.ssh.knownHosts),
      ...(o.ssh.privateKeyFile ? { privateKeyFile: abs(o.ssh.privateKeyFile) } : {}),
    },
    ...(o.datastore?.caFile ? { datastore: { ...o.datastore, caFile: abs(o.datastore.caFile) } } : {}),
  };
}

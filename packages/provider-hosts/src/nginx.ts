import { type NodeState, ProviderError } from "@k3sinfra/core";
import type { SshSession } from "./ssh/session.js";

/** Where k3sinfra's NGINX configuration lives: its own directory, one file per cluster. */
export const NGINX_DIR = "/etc/nginx/k3sinfra";
/** The one top-level `stream {}` block, including every cluster's file (nginx allows one stream block). */
export const NGINX_STREAM_CONF = `${NGINX_DIR}/stream.conf`;
export const NGINX_STREAMS_DIR = `${NGINX_DIR}/streams`;
/** The line added to nginx.conf (top level, like Debian's modules-enabled include), removed on delete. */
export const INCLUDE_LINE = `include ${NGINX_STREAM_CONF}; # k3sinfra`;

export const clusterConf = (cluster: string): string => `${NGINX_STREAMS_DIR}/${cluster}.conf`;
const upstreamName = (cluster: string, port: number) => `k3sinfra_${cluster.replace(/-/g, "_")}_${port}`;

/** What one cluster's stream configuration needs. */
export interface StreamInput {
  readonly cluster: string;
  readonly targets: readonly Pick<NodeState, "id" | "privateIp">[];
  /** Idle time before NGINX closes a proxied connection: Rancher's websockets want ≥ 1800 s. */
  readonly idleTimeoutSeconds: number;
}

/**
 * One cluster's L4 configuration: TCP 80 and 443 passed to Traefik on every node, as Rancher's NGINX
 * example does (https://ranchermanager.docs.rancher.com/how-to-guides/new-user-guides/infrastructure-setup/nginx-load-balancer).
 * Passive health: a node that fails `max_fails` connections within `fail_timeout` is skipped for
 * `fail_timeout`, and a failed connect goes to the next node (`proxy_next_upstream`, on by default)
 * (https://nginx.org/en/docs/stream/ngx_stream_upstream_module.html#server). `proxy_timeout` is the idle time
 * between two reads or writes (default 10 m), raised for Rancher's agent websockets; the connect timeout is
 * short so a dead node costs clients little (https://nginx.org/en/docs/stream/ngx_stream_proxy_module.html).
 * `proxy_protocol off`: Traefik on the nodes does not expect the PROXY header. With no targets the ports
 * are closed: an upstream without servers is a configuration error.
 */
export function renderStreamConf(o: StreamInput): string {
  const lines = [`# Written by k3sinfra for cluster ${o.cluster}: rewritten on every change, do not edit.`];
  for (const t of o.targets) lines.push(`# target ${t.id} ${t.privateIp}`);
  if (o.targets.length === 0) return `${lines.join("\n")}\n# no targets: ports 80 and 443 are closed\n`;
  for (const port of [80, 443]) {
    const name = upstreamName(o.cluster, port);
    lines.push(
      `upstream ${name} {`,
      "    least_conn;",
      ...o.targets.map((t) => `    server ${t.privateIp}:${port} max_fails=3 fail_timeout=30s;`),
      "}",
      "server {",
      `    listen ${port};`,
      `    proxy_pass ${name};`,
      "    proxy_protocol off;",
      "    proxy_connect_timeout 5s;",
      `    proxy_timeout ${o.idleTimeoutSeconds}s;`,
      "}",
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The targets a cluster file names (its `# target` lines): what NGINX was last given. */
export const parseTargets = (conf: string): { id: string; ip: string }[] =>
  [...conf.matchAll(/^# target (\S+) (\S+)$/gm)].map((m) => ({ id: m[1] ?? "", ip: m[2] ?? "" }));

/**
 * NGINX with the stream module, installed from the distribution's packages when missing (Debian and Ubuntu
 * ship the stream module as `libnginx-mod-stream`); returns what it installed.
 */
export async function ensureNginx(s: SshSession): Promise<string[]> {
  const out = await s.run(
    "installing NGINX with the stream module",
    `set -e
installed=''
apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 "$@" >/dev/null; }
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  command -v apt-get >/dev/null 2>&1 || { echo "NGINX is not installed and this host has no apt-get: install nginx with its stream module" >&2; exit 1; }
  apt-get -q update >/dev/null
  apt_install nginx libnginx-mod-stream
  installed="nginx libnginx-mod-stream"
fi
PATH=$PATH:/usr/sbin
if nginx -V 2>&1 | grep -q -- '--with-stream=dynamic' && ! nginx -T 2>/dev/null | grep -q 'ngx_stream_module.so'; then
  apt-get -q update >/dev/null
  apt_install libnginx-mod-stream
  installed="$installed libnginx-mod-stream"
fi
echo "$installed"`,
  );
  return out
    .trim()
    .split(/\s+/)
    .filter((p) => p !== "");
}

/**
 * Writes one cluster's file, checks the whole configuration with `nginx -t` and reloads (never restarts:
 * open connections finish on the old workers, https://nginx.org/en/docs/control.html). A configuration
 * NGINX refuses is rolled back and reported with its error.
 */
export async function applyClusterConf(
  s: SshSession,
  cluster: string,
  conf: string | undefined,
): Promise<void> {
  const file = clusterConf(cluster);
  const main = "/etc/nginx/nginx.conf";
  await s.run(
    "preparing the NGINX configuration",
    `set -e
[ -f ${file} ] && cp -p ${file} ${file}.k3sinfra-bak || rm -f ${file}.k3sinfra-bak
mkdir -p ${NGINX_STREAMS_DIR}`,
  );
  if (conf === undefined) await s.run("removing the cluster's NGINX file", `rm -f ${file}`);
  else await s.writeFile(file, conf, "0644");
  await s.run(
    "including k3sinfra's stream block",
    `set -e
if ls ${NGINX_STREAMS_DIR}/*.conf >/dev/null 2>&1; then
  [ -f ${NGINX_STREAM_CONF} ] || printf 'stream {\\n    include ${NGINX_STREAMS_DIR}/*.conf;\\n}\\n' >${NGINX_STREAM_CONF}
  grep -qxF '${INCLUDE_LINE}' ${main} || printf '%s\\n' '${INCLUDE_LINE}' >>${main}
else
  # The last cluster is gone: nginx.conf back as it was, and our directory removed.
  grep -vxF '${INCLUDE_LINE}' ${main} >${main}.k3sinfra-tmp || :
  cat ${main}.k3sinfra-tmp >${main} && rm -f ${main}.k3sinfra-tmp
  rm -f ${NGINX_STREAM_CONF}
  rmdir ${NGINX_STREAMS_DIR} ${NGINX_DIR} 2>/dev/null || :
fi`,
  );
  const test = await s.exec("PATH=$PATH:/usr/sbin nginx -t 2>&1");
  if (test.code !== 0) {
    await s.exec(
      `if [ -f ${file}.k3sinfra-bak ]; then mv -f ${file}.k3sinfra-bak ${file}; else rm -f ${file}; fi`,
    );
    const why = test.stdout.split("\n").find((l) => l.includes("[emerg]")) ?? test.stdout.trim();
    throw new ProviderError(`nginx -t refused the configuration on ${s.target.host}: ${why.slice(0, 300)}`);
  }
  await s.run(
    "reloading NGINX",
    `rm -f ${file}.k3sinfra-bak
PATH=$PATH:/usr/sbin
if systemctl is-active --quiet nginx 2>/dev/null; then systemctl reload nginx
elif [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then nginx -s reload
elif command -v systemctl >/dev/null 2>&1 && systemctl enable --now nginx 2>/dev/null; then :
else nginx; fi`,
  );
}

/**
 * Refuses an NGINX whose other configuration listens on 80 or 443 (Debian's default site does): the stream
 * listeners need both ports, and a reload that cannot bind them keeps the old configuration silently.
 */
export async function checkPortsFree(s: SshSession): Promise<void> {
  const dump = await s.run("reading the NGINX configuration", "PATH=$PATH:/usr/sbin nginx -T 2>/dev/null");
  const taken: string[] = [];
  for (const part of dump.split(/^# configuration file (?=\/)/m).slice(1)) {
    const file = part.slice(0, part.indexOf(":"));
    if (file.startsWith(`${NGINX_DIR}/`)) continue;
    for (const m of part.matchAll(/^\s*listen\s+(?:\S*:)?(80|443)\b/gm))
      taken.push(`${file} (listen ${m[1]})`);
  }
  if (taken.length > 0)
    throw new ProviderError(
      `NGINX on ${s.target.host} (${s.target.path}) already listens on 80 or 443 in ${[...new Set(taken)].join(", ")}: the load balancer needs both ports for its stream listeners. Disable that server (e.g. rm /etc/nginx/sites-enabled/default) or use a host dedicated to the load balancer.`,
    );
}

/** Whether NGINX runs (systemd's view, else its pid file). */
export async function nginxRunning(s: SshSession): Promise<boolean> {
  const r = await s.exec(
    `systemctl is-active --quiet nginx 2>/dev/null || { [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)"; }`,
  );
  return r.code === 0;
}

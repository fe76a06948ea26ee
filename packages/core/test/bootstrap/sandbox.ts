import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BOOTSTRAP_SCRIPT_PATH } from "../../src/bootstrap/index.js";
import { parseCloudConfig } from "./fixtures.js";

/**
 * Runs the generated bootstrap for real under `sh`, with the node's outside world faked by small
 * executables on PATH: `curl` (metadata, get.k3s.io, /ping, CA bundles), `ip`, `sleep` (instant; it
 * "publishes" metadata and starts the first server after a number of naps, to exercise the waits),
 * `systemctl`, `apt-get`/`apt-cache`, and a `mysql`/`mariadb` client playing a datastore (fakes/*.sh).
 * PATH holds nothing else: the system tools the script needs are wrappers that log their argv too.
 * Every faked command appends its argv to `argv.log` and its environment to `env.log`, so tests can
 * assert that no secret was an argument or in an environment. Starting K3s (`systemctl`) writes a fake
 * `k3s.yaml` (`fakes/k3s.yaml`), and the installed fake `k3s kubectl get --raw /readyz` then answers ok.
 * A secret store for the store mode is a directory (`secretStore`), served by `fakes/secret-store.sh`,
 * which a test passes as its reader's file (`FAKE_SECRET_READER` in store-fixtures.ts).
 * Against an emulated cloud instead (`imds`, `hostTools`, `env`; `runBootstrapAsync`, so that an in-process
 * emulator keeps serving): `http://169.254.169.254/…` goes to that metadata service through the host's curl,
 * as the link-local address reaches it on an instance, and real tools such as python3 run the provider's reader.
 */
export interface SandboxOptions {
  /** Metadata published from the start. */
  readonly metadata?: Record<string, string>;
  /** Metadata published once `sleep` has been called this many times. */
  readonly lateMetadata?: { readonly afterSleeps: number; readonly values: Record<string, string> };
  /** The first server answers /ping once `sleep` has been called this many times (never when unset). */
  readonly firstServerUpAfterSleeps?: number;
  /** A MySQL client installed from the start; unset: none until `apt-get install` adds one. */
  readonly client?: "mysql" | "mariadb" | undefined;
  /** Path of a real client to run as `mysql` (behind the argv-recording wrapper) instead of the fake. */
  readonly realClient?: string | undefined;
  /** Packages the fake apt knows. Default both `mysql-client` and `mariadb-client`. */
  readonly aptPackages?: readonly string[];
  /** The first this many `apt-get install` calls fail as if dpkg were locked. */
  readonly aptFailures?: number;
  /** The datastore the fake client plays. */
  readonly datastore?: FakeDatastore;
  /** The CA bundle served at any https URL ending in `.pem`; the first `caFailures` downloads fail. */
  readonly caPem?: string;
  readonly caFailures?: number;
  /** Secrets by name in the fake store; the first `getFailures` reads and `putFailures` writes fail. */
  readonly secretStore?: {
    readonly values: Readonly<Record<string, string>>;
    readonly getFailures?: number;
    readonly putFailures?: number;
  };
  /**
   * The instance metadata service's base URL (e.g. an emulator's `imdsEndpoint(id)`): the fake curl hands
   * every `http://169.254.169.254/…` request to the host's curl with that base instead, so the provider's
   * metadata reader talks to it unchanged. Unset: the fake answers metadata from `metadata`/`lateMetadata`.
   */
  readonly imds?: string;
  /** Real programs on the sandbox's PATH by name → absolute path (e.g. python3), behind the argv-logging wrapper. */
  readonly hostTools?: Readonly<Record<string, string>>;
  /** More environment for the script (e.g. a reader's endpoint overrides); never a secret. */
  readonly env?: Readonly<Record<string, string>>;
}

/** The fake server's starting state. */
export interface FakeDatastore {
  readonly admin: { readonly user: string; readonly password: string };
  /** Existing users and their passwords. */
  readonly users?: Readonly<Record<string, string>>;
  readonly databases?: readonly string[];
  /** The databases each user has ALL on. */
  readonly grants?: Readonly<Record<string, readonly string[]>>;
  /** The first this many connections are refused (ERROR 2003), as by a server still starting. */
  readonly refuseFirst?: number;
}

/** The fake server's state after a run. */
export interface DatastoreState {
  readonly users: Record<string, string>;
  readonly databases: string[];
  readonly grants: Record<string, string[]>;
}

export interface SandboxResult {
  readonly status: number | null;
  readonly stderr: string;
  readonly root: string;
  /** Every argv of faked commands and the installer's environment, in order. */
  readonly log: string[];
  /** Every argv of the system tools the script and the fakes ran (sed, cat, sh, ...). */
  readonly tools: string[];
  /** The environment of every faked command, one line each. */
  readonly env: string[];
  /** `<mode> <path>` of the option file of every client call. */
  readonly optionFiles: string[];
  /** The SQL the fake client received, each block headed `-- as <user>`. */
  readonly sql: string;
  read(path: string): string | undefined;
  mode(path: string): number;
  exists(path: string): boolean;
  /** The fake datastore's state now. */
  datastore(): DatastoreState;
  /** The value stored under `name` in the fake secret store. */
  stored(name: string): string | undefined;
}

const fake = (body: string) => `#!/bin/sh\n. "$SANDBOX/fakes/record.sh"\n${body}\n`;
const FAKES_DIR = fileURLToPath(new URL("./fakes/", import.meta.url));

// The only system tools on the sandbox's PATH, each behind a wrapper that logs its argv.
const TOOLS = [
  "basename",
  "cat",
  "chmod",
  "cmp",
  "cp",
  "cut",
  "date",
  "env",
  "grep",
  "hostname",
  "mkdir",
  "mv",
  "rm",
  "sed",
  "sh",
  "stat",
  "touch",
  "tr",
];
const toolPath = (tool: string): string | undefined => {
  const r = spawnSync("/bin/sh", ["-c", `command -v ${tool}`]);
  return r.status === 0 ? r.stdout.toString().trim() : undefined;
};
const wrapper = (tool: string, path: string) =>
  `#!/bin/sh\nprintf '%s\\n' "${tool} $*" >>"$SANDBOX/tools.log"\nexec ${path} "$@"\n`;

const FAKES: Record<string, string> = {
  curl: fake(
    `out=''
for a in "$@"; do
  case "$prev" in -o) out=$a ;; esac
  prev=$a
  url=$a
done
if [ -f "$SANDBOX/imds-base" ]; then
  case "$url" in
    http://169.254.169.254/*)
      base=$(cat "$SANDBOX/imds-base")
      for a in "$@"; do
        case "$a" in http://169.254.169.254/*) a=$base\${a#http://169.254.169.254} ;; esac
        set -- "$@" "$a"
        shift
      done
      exec "$(cat "$SANDBOX/imds-curl")" "$@" ;;
  esac
fi
case "$url" in
  */k3sinfra:*) key=\${url##*/k3sinfra:}; [ -f "$SANDBOX/meta/$key" ] || exit 22; cat "$SANDBOX/meta/$key" ;;
  */latest/api/token) printf 'imds-token' ;;
  https://get.k3s.io) cp "$SANDBOX/installer.sh" "$out" ;;
  https://127.0.0.1:6443/ping) [ -x "$SANDBOX/usr/local/bin/k3s" ] || exit 7; printf pong ;;
  */ping) [ -f "$SANDBOX/first-up" ] || exit 7; printf pong ;;
  https://*.pem)
    n=$(cat "$SANDBOX/ca-failures" 2>/dev/null || echo 0)
    if [ "$n" -gt 0 ]; then echo $((n - 1)) >"$SANDBOX/ca-failures"; exit 7; fi
    [ -f "$SANDBOX/ca-source.pem" ] || exit 22; cp "$SANDBOX/ca-source.pem" "$out" ;;
  *) exit 6 ;;
esac`,
  ),
  ip: fake("echo '1.1.1.1 via 10.0.1.1 dev eth0 src 10.0.1.23 uid 0'"),
  systemctl: fake(
    `case "$*" in
  is-active*' k3s') [ -f "$SANDBOX/k3s-started" ] ;;
  *start*' k3s') echo "$*" >>"$SANDBOX/k3s-started"; cp "$SANDBOX/fakes/k3s.yaml" "$SANDBOX/etc/rancher/k3s/k3s.yaml" ;;
esac`,
  ),
  sleep: fake(
    `n=$(($(cat "$SANDBOX/sleeps" 2>/dev/null || echo 0) + 1)); echo "$n" >"$SANDBOX/sleeps"
[ ! -f "$SANDBOX/late-after" ] || [ "$n" -lt "$(cat "$SANDBOX/late-after")" ] || cp "$SANDBOX"/late/* "$SANDBOX/meta/"
[ ! -f "$SANDBOX/up-after" ] || [ "$n" -lt "$(cat "$SANDBOX/up-after")" ] || touch "$SANDBOX/first-up"`,
  ),
};

// A stand-in for get.k3s.io: records its arguments and environment, then "installs" a k3s binary.
const INSTALLER = `#!/bin/sh
printf '%s\\n' "installer $* env:$(env | tr '\\n' ' ')" >>"$SANDBOX/argv.log"
mkdir -p "$SANDBOX/usr/local/bin"
printf '#!/bin/sh\\nK3S_FAKE_VERSION=%s\\n. "$SANDBOX/fakes/k3s.sh"\\n' "$INSTALL_K3S_VERSION" >"$SANDBOX/usr/local/bin/k3s"
chmod 0755 "$SANDBOX/usr/local/bin/k3s"
`;

const roots: string[] = [];

/** Deletes every sandbox made so far (call in afterAll). */
export function removeSandboxes(): void {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
}

/** Renders the cloud-config's files under a temp root and runs the bootstrap script there. */
export function runBootstrap(cloudConfig: string, options: SandboxOptions = {}): SandboxResult {
  const box = prepareSandbox(cloudConfig, options);
  const result = spawnSync("sh", [box.script], { env: box.env, timeout: 30_000 });
  return box.result(result.status, result.stderr.toString());
}

/** `runBootstrap` without blocking the event loop, for a cloud emulated in this process. */
export function runBootstrapAsync(
  cloudConfig: string,
  options: SandboxOptions = {},
  timeoutMs = 60_000,
): Promise<SandboxResult> {
  const box = prepareSandbox(cloudConfig, options);
  const child = spawn("sh", [box.script], { env: box.env, stdio: ["ignore", "ignore", "pipe"] });
  const err: Buffer[] = [];
  child.stderr.on("data", (b: Buffer) => err.push(b));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve(box.result(status, Buffer.concat(err).toString()));
    });
  });
}

/** What `runBootstrapUnit` saw: every run of the unit's script, and the sandbox after the last one. */
export interface UnitRunResult extends SandboxResult {
  /** Exit status of each run, in order (`null`: killed). */
  readonly runs: readonly (number | null)[];
  /** What the script wrote to the console (`/dev/console`), every run. */
  readonly console: string;
}

/**
 * Runs the systemd unit of the user data (`[Service] ExecStart=`) as systemd does with `Restart=on-failure`:
 * again in the same sandbox after every failed or killed run, up to `maxRuns`. `killOn` kills the script
 * (SIGKILL, as a crash or a power cut would) the first time a faked command whose `name args` matches the
 * shell pattern is called, before that command does anything. `again`: runs after the first success, as a
 * reboot or a manual restart would start it.
 */
export function runBootstrapUnit(
  cloudConfig: string,
  options: SandboxOptions = {},
  run: { readonly maxRuns?: number; readonly killOn?: string; readonly again?: number } = {},
): UnitRunResult {
  const box = prepareSandbox(cloudConfig, options);
  const unit = parseCloudConfig(cloudConfig).write_files.find((f) => f.path.endsWith(".service"));
  const exec = /^ExecStart=(\S+)$/m.exec(unit?.content ?? "")?.[1];
  if (exec === undefined) throw new Error("no systemd unit with an ExecStart= in the user data");
  const script = join(box.env.SANDBOX!, exec);
  if (run.killOn !== undefined) writeFileSync(join(box.env.SANDBOX!, "kill-on"), run.killOn);
  const runs: (number | null)[] = [];
  let stderr = "";
  for (let i = 0; i < (run.maxRuns ?? 10); i++) {
    // $$ of the script, for the kill: the shell execs it, so the pid is the script's.
    const r = spawnSync("sh", ["-c", 'echo "$$" >"$SANDBOX/script.pid"; exec sh "$0"', script], {
      env: box.env,
      timeout: 30_000,
    });
    runs.push(r.status);
    stderr += r.stderr.toString();
    if (r.status === 0 && runs.filter((x) => x === 0).length > (run.again ?? 0)) break;
  }
  const result = box.result(runs.at(-1) ?? null, stderr);
  return { ...result, runs, console: result.read("/dev/console") ?? "" };
}

interface PreparedSandbox {
  readonly script: string;
  readonly env: Record<string, string>;
  result(status: number | null, stderr: string): SandboxResult;
}

function prepareSandbox(cloudConfig: string, options: SandboxOptions): PreparedSandbox {
  const root = mkdtempSync(join(tmpdir(), "k3sinfra-boot-"));
  roots.push(root);
  const at = (p: string) => join(root, p);
  for (const dir of ["bin", "fakes", "meta", "late", "run", "etc/rancher/k3s", "dev"])
    mkdirSync(at(dir), { recursive: true });
  for (const dir of ["users", "dbs", "grants"]) mkdirSync(at(`db/${dir}`), { recursive: true });
  const executable = (path: string, body: string) => {
    writeFileSync(at(path), body);
    chmodSync(at(path), 0o755);
  };
  for (const name of readdirSync(FAKES_DIR)) copyFileSync(join(FAKES_DIR, name), at(`fakes/${name}`));
  for (const [name, body] of Object.entries(FAKES)) executable(`bin/${name}`, body);
  for (const name of ["apt-get", "apt-cache"])
    executable(`bin/${name}`, readFileSync(at(`fakes/${name}.sh`), "utf8"));
  for (const tool of TOOLS) {
    const path = toolPath(tool);
    if (path !== undefined) executable(`bin/${tool}`, wrapper(tool, path));
  }
  for (const [tool, path] of Object.entries(options.hostTools ?? {}))
    executable(`bin/${tool}`, wrapper(tool, path));
  if (options.imds !== undefined) {
    const curl = toolPath("curl");
    if (curl === undefined) throw new Error("the sandbox's imds option needs the host's curl");
    writeFileSync(at("imds-base"), options.imds.replace(/\/$/, ""));
    writeFileSync(at("imds-curl"), curl);
  }
  if (options.client) executable(`bin/${options.client}`, readFileSync(at("fakes/mysql.sh"), "utf8"));
  if (options.realClient)
    executable("bin/mysql", `#!/bin/sh\n. "$SANDBOX/fakes/record.sh"\nexec ${options.realClient} "$@"\n`);
  writeFileSync(
    at("apt-packages"),
    `${(options.aptPackages ?? ["mysql-client", "mariadb-client"]).join("\n")}\n`,
  );
  if (options.aptFailures) writeFileSync(at("apt-failures"), String(options.aptFailures));
  if (options.caPem !== undefined) writeFileSync(at("ca-source.pem"), options.caPem);
  if (options.caFailures) writeFileSync(at("ca-failures"), String(options.caFailures));
  const ds = options.datastore;
  if (ds) {
    writeFileSync(at("db/admin"), `${ds.admin.user} ${ds.admin.password}`);
    for (const [user, password] of Object.entries(ds.users ?? {}))
      writeFileSync(at(`db/users/${user}`), password);
    for (const name of ds.databases ?? []) writeFileSync(at(`db/dbs/${name}`), "");
    for (const [user, dbs] of Object.entries(ds.grants ?? {}))
      writeFileSync(at(`db/grants/${user}`), dbs.map((d) => `${d}\n`).join(""));
    if (ds.refuseFirst) writeFileSync(at("db/refuse"), String(ds.refuseFirst));
  }
  writeFileSync(at("installer.sh"), INSTALLER);
  const store = options.secretStore;
  for (const [name, value] of Object.entries(store?.values ?? {})) {
    mkdirSync(dirname(at(`store${name}`)), { recursive: true });
    writeFileSync(at(`store${name}`), value);
  }
  if (store?.getFailures) writeFileSync(at("store-get-failures"), String(store.getFailures));
  if (store?.putFailures) writeFileSync(at("store-put-failures"), String(store.putFailures));
  for (const [k, v] of Object.entries(options.metadata ?? {})) writeFileSync(at(`meta/${k}`), v);
  if (options.lateMetadata) {
    for (const [k, v] of Object.entries(options.lateMetadata.values)) writeFileSync(at(`late/${k}`), v);
    writeFileSync(at("late-after"), String(options.lateMetadata.afterSleeps));
  }
  if (options.firstServerUpAfterSleeps !== undefined)
    writeFileSync(at("up-after"), String(options.firstServerUpAfterSleeps));
  // The node's absolute paths, moved under the sandbox root; refuse to run if one escaped (we may be root).
  // /dev/console too: the stage lines the script writes there land in the sandbox's dev/console.
  const nodePaths =
    /(^|[\s='"])\/(etc\/rancher|run\/k3sinfra|usr\/local\/bin\/k3s|usr\/local\/lib\/k3sinfra|var\/lib\/rancher|dev\/console)/gm;
  const relocate = (text: string) => {
    const moved = text.replace(nodePaths, `$1${root}/$2`);
    if (new RegExp(nodePaths.source, "m").test(moved)) throw new Error("a node path escaped the sandbox");
    return moved;
  };
  const doc = parseCloudConfig(cloudConfig);
  for (const f of doc.write_files) {
    const path = at(f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.path === BOOTSTRAP_SCRIPT_PATH ? relocate(f.content) : f.content);
    chmodSync(path, Number.parseInt(f.permissions, 8));
  }
  const script = at(BOOTSTRAP_SCRIPT_PATH);
  const env = { ...options.env, PATH: at("bin"), SANDBOX: root };
  return { script, env, result: (status, stderr) => collect(root, status, stderr) };
}

function collect(root: string, status: number | null, stderr: string): SandboxResult {
  const at = (p: string) => join(root, p);
  const text = (p: string) => (existsSync(at(p)) ? readFileSync(at(p), "utf8") : "");
  const lines = (p: string) => (text(p) === "" ? [] : text(p).trimEnd().split("\n"));
  const entries = (dir: string) => readdirSync(at(`db/${dir}`)).sort();
  return {
    status,
    stderr,
    root,
    log: lines("argv.log"),
    tools: lines("tools.log"),
    env: lines("env.log"),
    optionFiles: lines("cnf.log"),
    sql: text("sql.log"),
    read: (p) => (existsSync(at(p)) ? readFileSync(at(p), "utf8") : undefined),
    mode: (p) => statSync(at(p)).mode & 0o777,
    exists: (p) => existsSync(at(p)),
    datastore: () => ({
      users: Object.fromEntries(entries("users").map((u) => [u, text(`db/users/${u}`).trim()])),
      databases: entries("dbs"),
      grants: Object.fromEntries(entries("grants").map((u) => [u, lines(`db/grants/${u}`)])),
    }),
    stored: (name) => (existsSync(at(`store${name}`)) ? readFileSync(at(`store${name}`), "utf8") : undefined),
  };
}

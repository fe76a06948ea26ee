import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BOOTSTRAP_SCRIPT_PATH } from "../../src/bootstrap/index.js";
import { parseCloudConfig } from "./fixtures.js";

/**
 * Runs the generated bootstrap for real under `sh`, with the node's outside world faked by small
 * executables on PATH: `curl` (metadata, get.k3s.io, /ping), `ip`, `sleep` (instant; it "publishes"
 * metadata and starts the first server after a number of naps, to exercise the waits) and `systemctl`.
 * Every faked command appends its argv to `argv.log`, so tests can assert no secret was an argument.
 */
export interface SandboxOptions {
  /** Metadata published from the start. */
  readonly metadata?: Record<string, string>;
  /** Metadata published once `sleep` has been called this many times. */
  readonly lateMetadata?: { readonly afterSleeps: number; readonly values: Record<string, string> };
  /** The first server answers /ping once `sleep` has been called this many times (never when unset). */
  readonly firstServerUpAfterSleeps?: number;
}

export interface SandboxResult {
  readonly status: number | null;
  readonly stderr: string;
  readonly root: string;
  /** Every argv of faked commands and the installer's environment, in order. */
  readonly log: string[];
  read(path: string): string | undefined;
  mode(path: string): number;
}

const fake = (name: string, body: string) =>
  `#!/bin/sh\nprintf '%s\\n' "${name} $*" >>"$SANDBOX/argv.log"\n${body}\n`;

const FAKES: Record<string, string> = {
  curl: fake(
    "curl",
    `out=''
for a in "$@"; do
  case "$prev" in -o) out=$a ;; esac
  prev=$a
  url=$a
done
case "$url" in
  */k3sinfra:*) key=\${url##*/k3sinfra:}; [ -f "$SANDBOX/meta/$key" ] || exit 22; cat "$SANDBOX/meta/$key" ;;
  */latest/api/token) printf 'imds-token' ;;
  https://get.k3s.io) cp "$SANDBOX/installer.sh" "$out" ;;
  https://127.0.0.1:6443/ping) [ -x "$SANDBOX/usr/local/bin/k3s" ] || exit 7; printf pong ;;
  */ping) [ -f "$SANDBOX/first-up" ] || exit 7; printf pong ;;
  *) exit 6 ;;
esac`,
  ),
  ip: fake("ip", "echo '1.1.1.1 via 10.0.1.1 dev eth0 src 10.0.1.23 uid 0'"),
  systemctl: fake("systemctl", "exit 0"),
  sleep: fake(
    "sleep",
    `n=$(($(cat "$SANDBOX/sleeps" 2>/dev/null || echo 0) + 1)); echo "$n" >"$SANDBOX/sleeps"
[ ! -f "$SANDBOX/late-after" ] || [ "$n" -lt "$(cat "$SANDBOX/late-after")" ] || cp "$SANDBOX"/late/* "$SANDBOX/meta/"
[ ! -f "$SANDBOX/up-after" ] || [ "$n" -lt "$(cat "$SANDBOX/up-after")" ] || touch "$SANDBOX/first-up"`,
  ),
};

// A stand-in for get.k3s.io: records its arguments and environment, then "installs" a k3s binary.
const INSTALLER = `#!/bin/sh
printf '%s\\n' "installer $* env:$(env | tr '\\n' ' ')" >>"$SANDBOX/argv.log"
mkdir -p "$SANDBOX/usr/local/bin"
printf '#!/bin/sh\\necho "k3s version %s (fake)"\\n' "$INSTALL_K3S_VERSION" >"$SANDBOX/usr/local/bin/k3s"
chmod 0755 "$SANDBOX/usr/local/bin/k3s"
`;

const roots: string[] = [];

/** Deletes every sandbox made so far (call in afterAll). */
export function removeSandboxes(): void {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
}

/** Renders the cloud-config's files under a temp root and runs the bootstrap script there. */
export function runBootstrap(cloudConfig: string, options: SandboxOptions = {}): SandboxResult {
  const root = mkdtempSync(join(tmpdir(), "k3sinfra-boot-"));
  roots.push(root);
  const at = (p: string) => join(root, p);
  for (const dir of ["bin", "meta", "late", "run", "etc/rancher/k3s"])
    mkdirSync(at(dir), { recursive: true });
  for (const [name, body] of Object.entries(FAKES)) {
    writeFileSync(at(`bin/${name}`), body);
    chmodSync(at(`bin/${name}`), 0o755);
  }
  writeFileSync(at("installer.sh"), INSTALLER);
  for (const [k, v] of Object.entries(options.metadata ?? {})) writeFileSync(at(`meta/${k}`), v);
  if (options.lateMetadata) {
    for (const [k, v] of Object.entries(options.lateMetadata.values)) writeFileSync(at(`late/${k}`), v);
    writeFileSync(at("late-after"), String(options.lateMetadata.afterSleeps));
  }
  if (options.firstServerUpAfterSleeps !== undefined)
    writeFileSync(at("up-after"), String(options.firstServerUpAfterSleeps));
  // The node's absolute paths, moved under the sandbox root; refuse to run if one escaped (we may be root).
  const nodePaths = /(^|[\s='"])\/(etc\/rancher|run\/k3sinfra|usr\/local\/bin\/k3s|var\/lib\/rancher)/gm;
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
  const result = spawnSync("sh", [at(BOOTSTRAP_SCRIPT_PATH)], {
    env: { PATH: `${at("bin")}:/usr/bin:/bin`, SANDBOX: root },
    timeout: 30_000,
  });
  const logFile = at("argv.log");
  return {
    status: result.status,
    stderr: result.stderr.toString(),
    root,
    log: existsSync(logFile) ? readFileSync(logFile, "utf8").trimEnd().split("\n") : [],
    read: (p) => (existsSync(at(p)) ? readFileSync(at(p), "utf8") : undefined),
    mode: (p) => statSync(at(p)).mode & 0o777,
  };
}

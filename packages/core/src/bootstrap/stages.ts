/** Where cloud-init writes the bootstrap script (0700) that the unit runs. */
export const BOOTSTRAP_SCRIPT_PATH = "/usr/local/sbin/k3sinfra-bootstrap";

/**
 * The stages of a node's bootstrap, in order. Each one checks first whether it is already done, so the
 * script can be run again at any point (systemd restarts it after a failure, and after a reboot):
 * - `secrets`: the K3s token and datastore password, read from the secret store (store mode);
 * - `metadata`: node IP, datastore address and (servers after the first) the first server's IP, then the
 *   0600 K3s config (rewritten only when it changes);
 * - `datastore`: server 0 with admin credentials creates the database and the K3s user unless it can log in;
 * - `k3s-install`: servers after the first wait for server 0's /ping; the pinned K3s is installed unless it
 *   is, and started unless it runs (restarted once when its config changed);
 * - `k3s-ready`: K3s answers `https://127.0.0.1:6443/ping`;
 * - `rancher-manifests`: server 0 hands cert-manager and Rancher to K3s's Helm controller (once);
 * - `kubeconfig`: server 0 stores its kubeconfig in the secret store (again only when K3s rewrote it);
 * - `done`.
 */
export const BOOT_STAGES = [
  "secrets",
  "metadata",
  "datastore",
  "k3s-install",
  "k3s-ready",
  "rancher-manifests",
  "kubeconfig",
  "done",
] as const;
export type BootStage = (typeof BOOT_STAGES)[number];

/** What a stage line says: a stage began, is waiting for something, succeeded, or failed (then it is retried). */
export type BootStageEvent = "start" | "waiting" | "ok" | "failed";

/**
 * One stage line, as the boot script writes it to the journal (unit `k3sinfra-bootstrap.service`) and to
 * `/dev/console` (the serial console, which the cloud's console output shows):
 *
 *     2026-01-02T03:04:05Z k3sinfra-bootstrap: stage=<stage> <event>[: <detail>]
 *
 * `<event>` is `start`, `waiting`, `ok` or `failed`; the detail of `failed` is the reason, and the last line
 * of a stuck node says where it is. The time stamp is UTC; the console may interleave other lines, and a
 * console may prefix its own, so the pattern is not anchored at the start. Groups: 1 stage, 2 event, 3 detail.
 * Details never hold a secret.
 */
export const BOOT_STAGE_PATTERN =
  /k3sinfra-bootstrap: stage=([a-z0-9-]+) (start|waiting|ok|failed)(?:: (.*))?$/;

/** A parsed stage line. */
export interface BootStageLine {
  readonly stage: string;
  readonly event: BootStageEvent;
  readonly detail?: string;
}

/** Every stage line of a log or console output, in order (other lines are skipped). */
export function parseBootStages(output: string): BootStageLine[] {
  const lines: BootStageLine[] = [];
  for (const line of output.split(/\r?\n/)) {
    const m = BOOT_STAGE_PATTERN.exec(line.trimEnd());
    if (!m) continue;
    lines.push({
      stage: m[1] ?? "",
      event: m[2] as BootStageEvent,
      ...(m[3] !== undefined ? { detail: m[3] } : {}),
    });
  }
  return lines;
}

/** The systemd unit that runs the boot script. */
export const BOOTSTRAP_UNIT_NAME = "k3sinfra-bootstrap.service";
export const BOOTSTRAP_UNIT_PATH = `/etc/systemd/system/${BOOTSTRAP_UNIT_NAME}`;
/** What the script keeps between its runs (markers only, no secret); under /var/lib/rancher, 0700. */
export const BOOTSTRAP_STATE_DIR = "/var/lib/rancher/k3sinfra";

/**
 * The unit. `Type=oneshot` with `RemainAfterExit=yes`: `systemctl is-active` says `activating` while it runs
 * and `active` once it succeeded. `Restart=on-failure` (oneshot units may restart since systemd 244: Ubuntu
 * 20.04+, Debian 11+) and `StartLimitIntervalSec=0`: a failed attempt (a wait that ran out, a crash, a kill)
 * is retried for as long as it takes, 15 s later, backing off to 5 min where systemd ≥ 254 knows
 * `RestartSteps`/`RestartMaxDelaySec` (older ones ignore the two lines). Enabled for `multi-user.target`, so a
 * reboot in the middle of the bootstrap runs it again; cloud-init's `runcmd` runs once per instance and would
 * not (https://docs.cloud-init.io/en/latest/reference/modules.html#runcmd). It is deliberately not ordered
 * after `cloud-final.service`, which is ordered after `multi-user.target` (a cycle); the packages it needs are
 * installed by then on the first boot (runcmd starts it, after the packages module), and the script installs
 * a missing MySQL client itself. No start timeout: every wait in the script is bounded per attempt.
 * https://www.freedesktop.org/software/systemd/man/latest/systemd.service.html
 */
export function renderBootstrapUnit(index: number): string {
  return `# Written by k3sinfra: runs the node bootstrap until it succeeds, across failures and reboots.
[Unit]
Description=k3sinfra bootstrap of K3s server ${index + 1}
Wants=network-online.target
After=network-online.target
StartLimitIntervalSec=0

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${BOOTSTRAP_SCRIPT_PATH}
Restart=on-failure
RestartSec=15
RestartSteps=10
RestartMaxDelaySec=300
TimeoutStartSec=infinity
StandardOutput=journal
StandardError=journal
SyslogIdentifier=k3sinfra-bootstrap

[Install]
WantedBy=multi-user.target
`;
}

/**
 * The script's logging: `log` (journal only), `stage` (a stage line to the journal and the console), `waiting`
 * (a `waiting` line of the current stage), `die` (a `failed` line, exit 1: systemd runs the script again),
 * and the EXIT trap that reports any other failure of the current stage and removes `CLEANUP_FILES`.
 */
export const renderStageFunctions = (): string => `CONSOLE=/dev/console
STATE_DIR=${BOOTSTRAP_STATE_DIR}
STAGE=start
FAILED=''

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
log() { printf '%s k3sinfra-bootstrap: %s\\n' "$(now)" "$*" >&2; }
# A stage line (BOOT_STAGE_PATTERN): stage=<name> <start|waiting|ok|failed>[: <detail>], also on the console.
stage() {
  STAGE=$1
  line="$(now) k3sinfra-bootstrap: stage=$1 $2\${3:+: $3}"
  printf '%s\\n' "$line" >&2
  { printf '%s\\n' "$line" >>"$CONSOLE"; } 2>/dev/null || :
}
waiting() { stage "$STAGE" waiting "$*"; }
die() {
  stage "$STAGE" failed "$*"
  FAILED=1
  exit 1
}
# Files removed whenever the script exits (sections add theirs): never left behind by a failed run.
CLEANUP_FILES=''
cleanup() { for f in $CLEANUP_FILES; do rm -f "$f"; done; }
on_exit() {
  rc=$?
  cleanup
  if [ "$rc" != 0 ] && [ -z "$FAILED" ]; then stage "$STAGE" failed "exit status $rc"; fi
}
trap on_exit EXIT
trap 'exit 143' TERM INT HUP
mkdir -p "$STATE_DIR"
`;

import { type PrepareScriptOptions, renderPrepareSection } from "./datastore-prep.js";
import { DATASTORE_CA_PATH, K3S_CONFIG_PATH } from "./k3s-config.js";
import { METADATA_KEYS } from "./metadata.js";
import {
  renderFillConfig,
  renderForgetSecrets,
  renderReadSecrets,
  renderSecretFunctions,
  renderSecretVariables,
  renderStoreKubeconfig,
  type ScriptSecretStore,
} from "./node-secrets.js";
import { renderRancherStage } from "./rancher-install.js";
import { renderStageFunctions } from "./stages.js";

/** Where cloud-init writes the config template (0600); the script's path is `BOOTSTRAP_SCRIPT_PATH`. */
export const CONFIG_TEMPLATE_PATH = "/etc/rancher/k3s/k3sinfra/config.yaml.tmpl";
export { BOOTSTRAP_SCRIPT_PATH } from "./stages.js";

/** Placeholders in the template that the script fills at boot (never secrets). */
export const PLACEHOLDERS = {
  address: "@K3SINFRA_DATASTORE_ADDRESS@",
  nodeIp: "@K3SINFRA_NODE_IP@",
} as const;

/** What the script needs; every value is validated by the caller and contains no quote or secret. */
export interface ScriptOptions {
  readonly index: number;
  readonly k3sVersion: string;
  /** Known datastore host/port; an empty host means "wait for the published `datastore-host`". */
  readonly datastoreHost: string;
  readonly datastorePort: number;
  /** Known first-server IP; empty means "wait for the published `first-server-ip`" (index > 0 only). */
  readonly firstServerIp: string;
  /** HTTPS URL of the datastore CA bundle to download, when it is not inline. */
  readonly caUrl: string;
  readonly metadataReader: string;
  /** The provider's secret reader functions (`k3sinfra_secret`, `k3sinfra_secret_put`), when it has one. */
  readonly secretFunctions?: string | undefined;
  readonly metadataWaitSeconds: number;
  readonly pingWaitSeconds: number;
  /** Server 0 with admin credentials: prepare the database and the K3s user before starting K3s. */
  readonly prepare?: PrepareScriptOptions | undefined;
  /** Store mode: read the secrets with `k3sinfra_secret` (from `secretFunctions`) instead of the template. */
  readonly secretStore?: ScriptSecretStore | undefined;
  /**
   * Server 0 installing Rancher: the `rancher-manifests` stage, with the name of the bootstrap password's
   * secret in store mode (the inline template holds the value).
   */
  readonly rancher?: { readonly passwordSecret?: string | undefined } | undefined;
}

const sq = (value: string): string => `'${value}'`;

/**
 * The POSIX sh script the systemd unit runs (`renderBootstrapUnit`) until it succeeds, in stages
 * (`BOOT_STAGES`) that each check first whether they are done, and report on the journal and the console
 * (`BOOT_STAGE_PATTERN`). It learns the datastore address (and, on servers after the first, the first server's
 * IP) from instance metadata, renders the 0600 config from the template with `sed` (only host, port and IP on
 * that command line), on server 0 with admin credentials prepares the database and the K3s user
 * (`renderPrepareSection`), on later servers waits for the first server's /ping, then installs the pinned K3s
 * with nothing but the version in the installer's environment
 * (https://docs.k3s.io/installation/configuration#configuration-file). Every wait is bounded backoff within
 * one run; a wait that runs out fails the run, and systemd starts the next. In store mode the template has
 * placeholders for the secrets, which the script reads with the provider's `k3sinfra_secret` and fills in
 * with shell builtins (`node-secrets.ts`); server 0 then also stores its kubeconfig with
 * `k3sinfra_secret_put` once the API serves. Server 0 installing Rancher hands its manifest to K3s once K3s
 * serves (`rancher-install.ts`).
 */
export function renderBootstrapScript(o: ScriptOptions): string {
  const store = o.secretStore;
  const where = store
    ? `the secret store and ${K3S_CONFIG_PATH} (0600)`
    : `${CONFIG_TEMPLATE_PATH} and ${K3S_CONFIG_PATH} (both 0600)`;
  const datastore = o.prepare
    ? renderPrepareSection(o.prepare)
    : `stage datastore ok "${o.index === 0 ? "no admin credentials: the datastore is prepared already" : "the first server prepares it"}"\n`;
  return `#!/bin/sh
# k3sinfra bootstrap for K3s server ${o.index + 1} (index ${o.index}). Generated: do not edit.
# Run by systemd (k3sinfra-bootstrap.service) until it succeeds: each stage checks whether it is done, so a
# restart or a reboot in the middle resumes. Stage lines go to the journal and the console.
# Secrets live only in ${where}, never in arguments.
set -eu
umask 077

K3S_VERSION=${sq(o.k3sVersion)}
NODE_INDEX=${o.index}
DATASTORE_HOST=${sq(o.datastoreHost)}
DATASTORE_PORT=${o.datastorePort}
FIRST_SERVER_IP=${sq(o.firstServerIp)}
CA_URL=${sq(o.caUrl)}
META_WAIT=${o.metadataWaitSeconds}
PING_WAIT=${o.pingWaitSeconds}
TEMPLATE=${CONFIG_TEMPLATE_PATH}
CONFIG=${K3S_CONFIG_PATH}
CA_FILE=${DATASTORE_CA_PATH}
${store ? renderSecretVariables(store) : ""}${renderStageFunctions()}
# Prints the published value of key $1 (provider-specific reader).
k3sinfra_meta() {
${o.metadataReader}
}
${o.secretFunctions ? `\n${o.secretFunctions}\n` : ""}${store ? renderSecretFunctions() : ""}
# Published values are pasted into a YAML file: accept host names, IP addresses and ports only.
valid() { case "$1" in '' | *[!A-Za-z0-9.:-]*) return 1 ;; esac; }
# Brackets an IPv6 address for host:port.
bracket() { case "$1" in *:*) printf '[%s]' "$1" ;; *) printf '%s' "$1" ;; esac; }

# Runs "$@" until it succeeds: backoff from 2 s doubling to 30 s, giving up after $1 seconds.
retry() {
  limit=$1
  shift
  delay=2
  waited=0
  until "$@"; do
    [ "$waited" -lt "$limit" ] || return 1
    sleep "$delay"
    waited=$((waited + delay))
    delay=$((delay * 2))
    [ "$delay" -le 30 ] || delay=30
  done
}

# Prints key $1 once it is published and valid, waiting up to META_WAIT seconds.
wait_meta() {
  delay=2
  waited=0
  while :; do
    if value=$(k3sinfra_meta "$1" 2>/dev/null) && valid "$value"; then
      printf '%s\\n' "$value"
      return 0
    fi
    [ "$waited" -lt "$META_WAIT" ] || return 1
    waiting "metadata key $1 is not published yet (k3sinfra publishes it once known)"
    sleep "$delay"
    waited=$((waited + delay))
    delay=$((delay * 2))
    [ "$delay" -le 30 ] || delay=30
  done
}

# True when https://$1:6443/ping answers pong (the K3s supervisor serves it without auth).
pong() { [ "$(curl -ksf -m 5 "https://$(bracket "$1"):6443/ping" 2>/dev/null)" = pong ]; }

# The private IPv4 address the default route uses; no packet is sent.
node_ip() {
  ip -4 -o route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \\([0-9.]*\\).*/\\1/p'
}

installed_version() {
  if [ -x /usr/local/bin/k3s ]; then /usr/local/bin/k3s --version 2>/dev/null | sed -n 's/^k3s version \\([^ ]*\\).*/\\1/p'; fi
}

stage secrets start
${store ? `${renderReadSecrets().trimStart()}stage secrets ok "read from the secret store"` : 'stage secrets ok "in the user data (no secret store)"'}

stage metadata start
NODE_IP=$(node_ip)
valid "$NODE_IP" || NODE_IP=$(hostname -I | cut -d' ' -f1)
valid "$NODE_IP" || die "could not find this node's private IPv4 address"
if [ -z "$DATASTORE_HOST" ]; then
  DATASTORE_HOST=$(wait_meta ${METADATA_KEYS.datastoreHost}) ||
    die "metadata key ${METADATA_KEYS.datastoreHost} was not published within $META_WAIT s"
  if port=$(k3sinfra_meta ${METADATA_KEYS.datastorePort} 2>/dev/null) && valid "$port"; then DATASTORE_PORT=$port; fi
fi
case "$DATASTORE_PORT" in '' | *[!0-9]*) die "invalid datastore port: $DATASTORE_PORT" ;; esac
if [ "$NODE_INDEX" -gt 0 ] && [ -z "$FIRST_SERVER_IP" ]; then
  FIRST_SERVER_IP=$(wait_meta ${METADATA_KEYS.firstServerIp}) ||
    die "metadata key ${METADATA_KEYS.firstServerIp} was not published within $META_WAIT s"
fi
if [ -n "$CA_URL" ] && [ ! -s "$CA_FILE" ]; then
  retry 600 curl -fsSL -m 30 --proto '=https' -o "$CA_FILE.tmp" "$CA_URL" || die "could not download $CA_URL"
  chmod 0644 "$CA_FILE.tmp"
  mv "$CA_FILE.tmp" "$CA_FILE"
fi
ADDRESS="$(bracket "$DATASTORE_HOST"):$DATASTORE_PORT"
sed -e "s|${PLACEHOLDERS.address}|$ADDRESS|g" -e "s|${PLACEHOLDERS.nodeIp}|$NODE_IP|g" "$TEMPLATE" >"$CONFIG.tmp"
${store ? renderFillConfig() : ""}chmod 0600 "$CONFIG.tmp"
if cmp -s "$CONFIG.tmp" "$CONFIG"; then
  rm -f "$CONFIG.tmp"
  config=unchanged
else
  # K3s reads its config when it starts: restart it once, even if this run is cut short.
  : >"$STATE_DIR/restart-k3s"
  mv "$CONFIG.tmp" "$CONFIG"
  config=written
fi
stage metadata ok "datastore at $ADDRESS, node IP $NODE_IP, config $config"

stage datastore start
${datastore}${store ? renderForgetSecrets() : ""}
stage k3s-install start
if [ "$NODE_INDEX" -gt 0 ] && ! pong "$FIRST_SERVER_IP"; then
  # Servers after the first start only once it answers, so they never race on an empty datastore
  # (k3s-io/k3s#3226, #2364).
  waiting "the first server at https://$FIRST_SERVER_IP:6443/ping"
  retry "$PING_WAIT" pong "$FIRST_SERVER_IP" ||
    die "the first server at $FIRST_SERVER_IP did not answer /ping within $PING_WAIT s"
fi
if [ "$(installed_version)" != "$K3S_VERSION" ]; then
  log "installing K3s $K3S_VERSION"
  retry 600 curl -fsSL -m 60 --proto '=https' -o /run/k3sinfra-install.sh https://get.k3s.io ||
    die "could not download https://get.k3s.io"
  # The installer gets only the version; token and endpoint come from the config file. It does not start
  # K3s: the unit has no start timeout, so a blocking start would never reach our bounded wait below.
  INSTALL_K3S_SKIP_START=true INSTALL_K3S_VERSION="$K3S_VERSION" sh /run/k3sinfra-install.sh server ||
    die "the K3s installer failed"
  rm -f /run/k3sinfra-install.sh
  : >"$STATE_DIR/restart-k3s"
fi
if [ -f "$STATE_DIR/restart-k3s" ]; then
  systemctl restart --no-block k3s
  rm -f "$STATE_DIR/restart-k3s"
  k3s_state=restarted
elif systemctl is-active --quiet k3s; then
  k3s_state="already running"
else
  systemctl start --no-block k3s
  k3s_state=started
fi
stage k3s-install ok "K3s $K3S_VERSION $k3s_state"

stage k3s-ready start
retry "$PING_WAIT" pong 127.0.0.1 ||
  die "K3s did not answer https://127.0.0.1:6443/ping within $PING_WAIT s; see journalctl -u k3s"
stage k3s-ready ok "K3s server $((NODE_INDEX + 1)) answers /ping"
${o.rancher ? renderRancherStage(o.rancher) : ""}${store?.kubeconfigName ? renderStoreKubeconfig(store.kubeconfigName) : ""}
stage "done" ok "K3s server $((NODE_INDEX + 1)) is up"
`;
}

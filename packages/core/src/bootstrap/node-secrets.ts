import type { ConfigIssue } from "../errors.js";

/**
 * Secrets on the node, read from a secret store with the node's own identity (issue 10), so that user data
 * carries only their names.
 *
 * Contract with the provider's node-side reader (`NodeSecretReader.functions`, POSIX sh):
 * - `k3sinfra_secret <name>` prints the value of secret `<name>` on stdout (a trailing newline is ignored)
 *   and returns non-zero while it cannot (node identity not usable yet, throttled, not found). It never
 *   prints a value on stderr, and never puts one on a command line (argv is visible in `ps`).
 * - `k3sinfra_secret_put <name>` stores its stdin as secret `<name>` (overwriting), non-zero on failure.
 * Both run as root during boot with the reader's `files` already written; the boot script retries them with
 * bounded backoff, since a fresh node identity is eventually consistent (cloud identity services are).
 */
export interface NodeSecretReader {
  /** Files cloud-init writes before the script runs (a client, a helper). Never a secret: it is user data. */
  readonly files: readonly NodeSecretReaderFile[];
  /** POSIX sh defining the functions `k3sinfra_secret` and `k3sinfra_secret_put`. */
  readonly functions: string;
}

export interface NodeSecretReaderFile {
  /** Absolute path on the node. */
  readonly path: string;
  /** Octal mode, e.g. `0755`. */
  readonly permissions: string;
  readonly content: string;
}

/** The names under which the orchestrator stored the cluster's secrets. */
export interface NodeSecretNames {
  /** The K3s cluster token. */
  readonly k3sToken: string;
  /** The password of the datastore user K3s logs in as (`ClusterSecrets.datastoreK3sPassword`). */
  readonly datastorePassword: string;
  /**
   * The datastore admin (master) password (`ClusterSecrets.datastorePassword`), for server 0 to create the
   * database and the K3s user. Read only when the K3s user cannot log in yet, so the secret may be deleted
   * once the datastore is prepared without changing (and so replacing) server 0.
   */
  readonly datastoreAdminPassword?: string | undefined;
  /** Where server 0 stores its kubeconfig (`k3sinfra_secret_put`) once K3s serves. */
  readonly kubeconfig?: string | undefined;
  /**
   * Rancher's bootstrap password (`ClusterSecrets.rancherBootstrapPassword`), which server 0 puts into the
   * manifest that installs Rancher; required when the cluster installs Rancher (`BootstrapInput.rancher`).
   */
  readonly rancherBootstrapPassword?: string | undefined;
}

/**
 * A secret store as the orchestrator hands it to `renderUserData` (`UserDataInput.secretStore`); it becomes
 * `BootstrapInput.secretNames` and `.secretReader`.
 */
export interface NodeSecretStore {
  readonly names: NodeSecretNames;
  readonly reader: NodeSecretReader;
}

/**
 * Placeholders for secret values in the templates the script fills at boot with shell builtins only
 * (`fill_secrets`). Their `@` delimiters are refused in secret values, so filling always ends.
 */
export const SECRET_PLACEHOLDERS = {
  token: "@K3SINFRA_TOKEN@",
  datastorePassword: "@K3SINFRA_DATASTORE_PASSWORD@",
  datastoreAdminPassword: "@K3SINFRA_DATASTORE_ADMIN_PASSWORD@",
  rancherBootstrapPassword: "@K3SINFRA_RANCHER_BOOTSTRAP_PASSWORD@",
} as const;

// Secret names go into the script single-quoted: the characters parameter stores allow, nothing a shell reads.
const NAME = /^[A-Za-z0-9_./-]{1,1011}$/;

/**
 * Checks the store mode of a bootstrap input: the names (pasted into the script) and that the reader defines
 * both functions. The reader's files are checked with the rest of the input (`validateBootstrapInput`).
 */
export function validateSecretNames(
  names: NodeSecretNames,
  reader: NodeSecretReader | undefined,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  for (const [key, name] of Object.entries(names))
    if (name !== undefined && !NAME.test(name))
      add(`secretNames.${key}`, "must be 1 to 1011 letters, digits, or _ . / -");
  if (reader === undefined) add("secretReader", "is required with secretNames: it reads them on the node");
  else
    for (const fn of ["k3sinfra_secret", "k3sinfra_secret_put"])
      if (!new RegExp(`(^|[\\s;{])${fn}\\s*\\(\\)`, "m").test(reader.functions))
        add("secretReader.functions", `must define the shell function ${fn}`);
  return issues;
}

/** What the store part of the script needs (names validated; no value). */
export interface ScriptSecretStore {
  readonly tokenName: string;
  readonly passwordName: string;
  /** Server 0 only: store the kubeconfig under this name once K3s serves. */
  readonly kubeconfigName?: string | undefined;
  /** Bound of the wait for each secret read or write. */
  readonly waitSeconds: number;
}

const P = SECRET_PLACEHOLDERS;

/** Variables of the store mode, set with the script's others. */
export const renderSecretVariables = (s: ScriptSecretStore): string => `SECRET_WAIT=${s.waitSeconds}
TOKEN_SECRET='${s.tokenName}'
DB_PASSWORD_SECRET='${s.passwordName}'
SECRET='' SECRET_TOKEN='' SECRET_DB_PASSWORD='' SECRET_ADMIN_PASSWORD='' SECRET_RANCHER_PASSWORD=''
`;

/**
 * Functions of the store mode (after the provider's reader): reading with retry and validation, and filling
 * templates with builtins only (`read`, `printf`, parameter expansion), so no secret reaches an argv.
 */
export const renderSecretFunctions = (): string => `
# Secret values are pasted into YAML, a DSN, option files and SQL: anything that would need escaping is
# refused, never escaped. Passwords: letters, digits and ._~+=- ; the token may also hold ':'.
password_chars() { case "$SECRET" in '' | *[!A-Za-z0-9._~+=-]*) return 1 ;; esac; }
token_chars() { case "$SECRET" in '' | *[!A-Za-z0-9._~+=:-]*) return 1 ;; esac; }

# One attempt at secret $1 into SECRET; 1 (to retry) while the store or the node identity does not answer.
fetch_secret() {
  SECRET=$(k3sinfra_secret "$1") && [ -n "$SECRET" ] && return 0
  waiting "secret $1 is not readable yet (a new node identity takes a moment to work)"
  return 1
}

# Reads secret $1 into SECRET, retried up to SECRET_WAIT s, and checks it with function $2.
read_secret() {
  retry "$SECRET_WAIT" fetch_secret "$1" || die "could not read secret $1 within $SECRET_WAIT s"
  "$2" || die "secret $1 holds characters k3sinfra does not write into files (see $2)"
}

# Copies stdin to stdout with the secret placeholders replaced by the values read.
fill_secrets() {
  while IFS= read -r line; do
    while :; do
      case "$line" in
        *${P.token}*) line=\${line%%${P.token}*}$SECRET_TOKEN\${line#*${P.token}} ;;
        *${P.datastorePassword}*) line=\${line%%${P.datastorePassword}*}$SECRET_DB_PASSWORD\${line#*${P.datastorePassword}} ;;
        *${P.datastoreAdminPassword}*) line=\${line%%${P.datastoreAdminPassword}*}$SECRET_ADMIN_PASSWORD\${line#*${P.datastoreAdminPassword}} ;;
        *${P.rancherBootstrapPassword}*) line=\${line%%${P.rancherBootstrapPassword}*}$SECRET_RANCHER_PASSWORD\${line#*${P.rancherBootstrapPassword}} ;;
        *) break ;;
      esac
    done
    printf '%s\\n' "$line"
  done
}
`;

/** Reads the token and the K3s datastore password, before the config is written. */
export const renderReadSecrets = (): string => `
read_secret "$TOKEN_SECRET" token_chars
SECRET_TOKEN=$SECRET
[ \${#SECRET_TOKEN} -ge 16 ] || die "secret $TOKEN_SECRET is shorter than 16 characters"
read_secret "$DB_PASSWORD_SECRET" password_chars
SECRET_DB_PASSWORD=$SECRET
SECRET=''
`;

/** Fills the rendered config (\`$CONFIG.tmp\`) with the secrets. */
export const renderFillConfig = (): string => `fill_secrets <"$CONFIG.tmp" >"$CONFIG.fill"
mv "$CONFIG.fill" "$CONFIG.tmp"
`;

/** Drops the secrets from the shell once every file that needs them is written. */
export const renderForgetSecrets = (): string => `SECRET_TOKEN='' SECRET_DB_PASSWORD=''
`;

/**
 * The `kubeconfig` stage: server 0 stores its kubeconfig once the API serves (`k3s kubectl get --raw /readyz`),
 * through stdin, retrying. It is done when the file is the one last stored (its size and time, kept in the
 * state directory: no copy of the key); K3s rewrites it when it starts, so after a reboot it is stored again.
 * A failure fails the run, so systemd retries: `k3sinfra kubeconfig` needs it, and its appearance retires
 * the admin password.
 */
export const renderStoreKubeconfig = (name: string): string => `
stage kubeconfig start
KUBECONFIG_SECRET='${name}'
KUBECONFIG_FILE=/etc/rancher/k3s/k3s.yaml
KUBECONFIG_MARK=$STATE_DIR/kubeconfig-stored
api_ready() { [ -s "$KUBECONFIG_FILE" ] && /usr/local/bin/k3s kubectl get --raw /readyz >/dev/null 2>&1; }
put_kubeconfig() { k3sinfra_secret_put "$KUBECONFIG_SECRET" <"$KUBECONFIG_FILE" >/dev/null; }
file_id() { stat -c '%s %Y' "$KUBECONFIG_FILE" 2>/dev/null; }
if [ -f "$KUBECONFIG_MARK" ] && [ "$(cat "$KUBECONFIG_MARK")" = "$(file_id)" ]; then
  stage kubeconfig ok "already stored as secret $KUBECONFIG_SECRET"
else
  retry "$PING_WAIT" api_ready || die "the Kubernetes API was not ready within $PING_WAIT s; kubeconfig not stored"
  retry "$SECRET_WAIT" put_kubeconfig ||
    die "could not store the kubeconfig as secret $KUBECONFIG_SECRET within $SECRET_WAIT s"
  file_id >"$KUBECONFIG_MARK"
  stage kubeconfig ok "stored as secret $KUBECONFIG_SECRET"
fi
`;

import { SECRET_PLACEHOLDERS } from "./node-secrets.js";

/**
 * Where server 0's user data (with a secret store: its boot script) puts the 0600 files for preparing the
 * datastore; removed once it is ready.
 */
export const DATASTORE_PREP_PATHS = {
  /** mysql client option file with the admin (master) user's credentials. */
  adminOptions: "/etc/rancher/k3s/k3sinfra/datastore-admin.cnf",
  /** mysql client option file with the K3s user's credentials. */
  k3sOptions: "/etc/rancher/k3s/k3sinfra/datastore-k3s.cnf",
  /** The idempotent SQL the admin runs; it holds the K3s user's password. */
  sql: "/etc/rancher/k3s/k3sinfra/datastore-prepare.sql",
} as const;

/**
 * A `[client]` option file for `--defaults-extra-file`, so no password is ever an argument or in an
 * environment (https://dev.mysql.com/doc/refman/8.4/en/password-security-user.html). Values are validated
 * first: no quotes, backslashes, `#` or spaces, which option files would interpret.
 */
export const clientOptionFile = (user: string, password: string): string =>
  `[client]\nuser=${user}\npassword=${password}\n`;

// The K3s user may connect from any node; the firewall, not the account, limits where from (as checkDatastore).
const account = (user: string): string => `'${user}'@'%'`;

/**
 * Idempotent SQL for the K3s database and its least-privilege user (`ALL` on that database only: kine
 * creates and migrates its table there, https://github.com/k3s-io/kine/blob/master/pkg/drivers/mysql/mysql.go). `ALTER USER` converges a changed password. Names are letters, digits and `_`
 * and the password has no quote or backslash (validated), so plain quoting is safe.
 */
export function prepareSql(user: string, password: string, database: string): string {
  return [
    `CREATE DATABASE IF NOT EXISTS \`${database}\`;`,
    `CREATE USER IF NOT EXISTS ${account(user)} IDENTIFIED BY '${password}';`,
    `ALTER USER ${account(user)} IDENTIFIED BY '${password}';`,
    `GRANT ALL PRIVILEGES ON \`${database}\`.* TO ${account(user)};`,
    "",
  ].join("\n");
}

/** What the preparation step of the script needs (no secrets: those are in the files above). */
export interface PrepareScriptOptions {
  readonly database: string;
  /**
   * Secret-store mode: the script writes the files itself from the secrets read at boot (the K3s user's
   * option file at once; the admin's and the SQL only when the K3s user cannot log in, reading the admin
   * password then), and removes them on exit, success or not.
   */
  readonly store?:
    | { readonly k3sUser: string; readonly adminUser: string; readonly adminSecret: string }
    | undefined;
  /** Verify the server with `CA_FILE` (set when a CA bundle or CA URL is configured). */
  readonly tls: boolean;
  /** Give up after this many seconds of a server not accepting connections. */
  readonly waitSeconds: number;
}

/**
 * The shell section, for server 0 only, that runs once the datastore address is known and before K3s
 * starts. It logs in as the K3s user first and stops there when that works; otherwise it runs the SQL as
 * the admin and checks the K3s login again. The client comes from cloud-init's `packages:` (`mysql-client`);
 * where that did not install one, the script tries apt (`mysql-client` on Ubuntu, `mariadb-client` on Debian). Connection errors (DNS, refused, lost) are retried with bounded
 * backoff; any other error stops the boot with the client's first error line, cut before any echoed SQL.
 * TLS: MySQL's client takes `--ssl-mode=VERIFY_IDENTITY`, MariaDB's `--ssl-verify-server-cert`
 * (https://dev.mysql.com/doc/refman/8.4/en/connection-options.html,
 * https://mariadb.com/kb/en/securing-connections-for-client-and-server/), like kine, which checks the
 * DSN host name against the certificate.
 */
export function renderPrepareSection(o: PrepareScriptOptions): string {
  const p = DATASTORE_PREP_PATHS;
  return `
# Server 0 prepares the database and the K3s user: the datastore accepts connections only from the nodes.
DB_NAME='${o.database}'
DB_TLS=${o.tls ? 1 : 0}
DB_WAIT=${o.waitSeconds}
ADMIN_CNF=${p.adminOptions}
K3S_CNF=${p.k3sOptions}
DB_SQL=${p.sql}
${o.store ? storeFiles(o.database, o.store) : ""}
# cloud-init installs mysql-client (its packages module); this is the fallback where it could not (Debian
# packages only mariadb-client; a reboot before that module ran).
apt_client() {
  apt-get -q update >/dev/null || return 1
  pkg=mysql-client
  apt-cache show "$pkg" >/dev/null 2>&1 || pkg=mariadb-client
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=60 "$pkg" >/dev/null
}
db_client() { command -v mysql || command -v mariadb; }

# Runs the client as the user of option file $1 with the rest as arguments; prints only its errors.
db() {
  f=$1
  shift
  if [ "$DB_TLS" = 1 ]; then set -- --ssl-ca="$CA_FILE" "$DB_VERIFY" "$@"; else set -- "$DB_NOVERIFY" "$@"; fi
  { "$DB_CLIENT" --defaults-extra-file="$f" -h "$DATASTORE_HOST" -P "$DATASTORE_PORT" --protocol=TCP --connect-timeout=10 "$@" >/dev/null; } 2>&1
}
# The first line of a client error, cut before any echoed SQL (it could hold a password).
why() { printf '%s\\n' "$1" | sed -n '1{s/ near .*//;p;}' | cut -c1-200; }
# True (and logged) when the server does not accept connections yet: DNS, refused, gone, too many.
down() {
  case "$1" in *'ERROR 200'[2356]* | *'ERROR 2013'* | *'ERROR 1040'*) waiting "datastore not ready: $(why "$1")" ;; *) return 1 ;; esac
}
# One attempt: 0 once the K3s user can use its database, 1 to retry; exits on any other error.
db_prepare() {
  err=$(db "$K3S_CNF" -D "$DB_NAME" -e 'SELECT 1') && return 0
  down "$err" && return 1
  log "the K3s user cannot use database $DB_NAME yet ($(why "$err")); preparing it as the admin user"
${o.store ? "  admin_files || { FAILED=1; exit 1; }\n" : ""}  if ! err=$(db "$ADMIN_CNF" <"$DB_SQL"); then
    down "$err" && return 1
    die "preparing the datastore as the admin user failed: $(why "$err")"
  fi
  err=$(db "$K3S_CNF" -D "$DB_NAME" -e 'SELECT 1') && return 0
  down "$err" && return 1
  die "the K3s user still cannot log in after preparing: $(why "$err")"
}

if ${o.store ? ":" : '[ -f "$ADMIN_CNF" ]'}; then
  if ! DB_CLIENT=$(db_client); then
    log "installing a MySQL client"
    retry 180 apt_client || die "could not install mysql-client or mariadb-client with apt-get"
    DB_CLIENT=$(db_client) || die "no mysql or mariadb client after installing one"
  fi
  case "$("$DB_CLIENT" --version)" in
    *MariaDB*) DB_VERIFY=--ssl-verify-server-cert DB_NOVERIFY=--skip-ssl-verify-server-cert ;;
    *) DB_VERIFY=--ssl-mode=VERIFY_IDENTITY DB_NOVERIFY=--ssl-mode=PREFERRED ;;
  esac
  retry "$DB_WAIT" db_prepare || die "the datastore at $ADDRESS did not accept connections within $DB_WAIT s"
  rm -f "$ADMIN_CNF" "$K3S_CNF" "$DB_SQL"
  stage datastore ok "database $DB_NAME and its user are ready"
else
  stage datastore ok "prepared before (no preparation files left)"
fi
`;
}

const HEREDOC = "K3SINFRA_EOF";
const heredoc = (target: string, template: string): string =>
  `    fill_secrets >"${target}" <<'${HEREDOC}'\n${template}${HEREDOC}\n`;

/**
 * Store mode: the K3s user's option file now, and `admin_files`, which writes the admin's option file and
 * the SQL when first needed, reading the admin password in a subshell (its retry counters and the password
 * stay there). Templates are `clientOptionFile` and `prepareSql` with placeholders, so the files are
 * byte-identical to what the user data held before.
 */
function storeFiles(database: string, s: NonNullable<PrepareScriptOptions["store"]>): string {
  const ph = SECRET_PLACEHOLDERS;
  return `ADMIN_SECRET='${s.adminSecret}'
CLEANUP_FILES="$CLEANUP_FILES $ADMIN_CNF $ADMIN_CNF.tmp $K3S_CNF $DB_SQL"
${heredoc("$K3S_CNF", clientOptionFile(s.k3sUser, ph.datastorePassword)).trimStart()}
# The admin's option file and the SQL, read from the store only when the K3s user cannot log in, so a server
# 0 booting after the admin password was retired never asks for it.
admin_files() {
  [ -f "$ADMIN_CNF" ] && return 0
  log "reading the datastore admin password (secret $ADMIN_SECRET)"
  (
    read_secret "$ADMIN_SECRET" password_chars
    SECRET_ADMIN_PASSWORD=$SECRET
    # Here-documents: their bodies start at the margin, so the files match clientOptionFile and prepareSql.
${heredoc("$DB_SQL", prepareSql(s.k3sUser, ph.datastorePassword, database))}${heredoc("$ADMIN_CNF.tmp", clientOptionFile(s.adminUser, ph.datastoreAdminPassword))}    mv "$ADMIN_CNF.tmp" "$ADMIN_CNF"
  )
}
`;
}

#!/bin/sh
# Starts a throwaway MariaDB on 127.0.0.1 for the datastore tests and prints, on stdout, the variables the
# tests read (everything else goes to stderr):
#   eval "$(.ci/mariadb.sh)"   # then K3SINFRA_TEST_MYSQL_URL and K3SINFRA_TEST_MYSQL_CA are set
# Idempotent: when the server already answers, it only (re)creates the admin user. No systemd needed: the
# server runs in the background from its own data directory. Installing and starting need root (as in CI).
set -eu

# Not 3306: a distribution server that an install happened to start must not be mistaken for ours.
PORT="${K3SINFRA_TEST_MYSQL_PORT:-33306}"
# Test-only credential for a server bound to 127.0.0.1; never use it anywhere else.
PASSWORD="${K3SINFRA_TEST_MYSQL_PASSWORD:-k3sinfraTestOnly0000}"
ADMIN=k3sinfra_admin
DATADIR="${K3SINFRA_TEST_MYSQL_DATADIR:-/var/lib/k3sinfra-mariadb}"
SOCKET="$DATADIR/mysqld.sock"
TLSDIR="$DATADIR-tls"

log() { printf '%s\n' "mariadb.sh: $*" >&2; }
die() { log "$*"; exit 1; }

case "$PASSWORD" in
  *[!A-Za-z0-9_.-]*) die "K3SINFRA_TEST_MYSQL_PASSWORD may hold only letters, digits, _ . - (it goes into a URL)" ;;
esac

# The Debian package names its tools mariadb*/mysql*; older ones only have the mysql* aliases.
pick() { for c in "$@"; do if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi; done; return 1; }
server_bin() { pick mariadbd mysqld || { [ -x /usr/sbin/mariadbd ] && echo /usr/sbin/mariadbd; } || { [ -x /usr/sbin/mysqld ] && echo /usr/sbin/mysqld; }; }

if [ -z "$(server_bin || true)" ]; then
  [ "$(id -u)" = 0 ] || die "MariaDB is not installed and this is not root: run as root or install mariadb-server"
  log "installing mariadb-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends mariadb-server mariadb-client openssl >&2
fi
SERVER="$(server_bin)" || die "no mariadbd or mysqld after installing mariadb-server"
CLIENT="$(pick mariadb mysql)" || die "no mariadb or mysql client"
ADMIN_TOOL="$(pick mariadb-admin mysqladmin)" || die "no mariadb-admin or mysqladmin"
INSTALL_DB="$(pick mariadb-install-db mysql_install_db)" || die "no mariadb-install-db"

# The server answers when ping succeeds or when it refuses us by name (1045 access denied, 1130 host not
# allowed): an anonymous TCP ping gets one of those until the admin user exists.
answers() {
  out=$("$ADMIN_TOOL" --no-defaults --protocol=tcp -h 127.0.0.1 -P "$PORT" --connect-timeout=2 ping 2>&1) && return 0
  case "$out" in *1045*|*1130*|*"Access denied"*|*"not allowed to connect"*) return 0 ;; esac
  return 1
}

make_tls() {
  # A private CA and a server certificate for 127.0.0.1/localhost, so the tests can cover TLS with a CA file.
  [ -s "$TLSDIR/server-cert.pem" ] && return 0
  mkdir -p "$TLSDIR"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=k3sinfra test CA" \
    -keyout "$TLSDIR/ca-key.pem" -out "$TLSDIR/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$TLSDIR/server-key.pem" -out "$TLSDIR/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$TLSDIR/ext.cnf"
  openssl x509 -req -in "$TLSDIR/server.csr" -CA "$TLSDIR/ca.pem" -CAkey "$TLSDIR/ca-key.pem" \
    -CAcreateserial -days 3650 -extfile "$TLSDIR/ext.cnf" -out "$TLSDIR/server-cert.pem" 2>/dev/null
  chmod 0644 "$TLSDIR"/*.pem
}

if answers; then
  log "a server already answers on 127.0.0.1:$PORT"
else
  [ "$(id -u)" = 0 ] || die "no server on 127.0.0.1:$PORT and this is not root: run as root to start one"
  RUNAS=root
  id mysql >/dev/null 2>&1 && RUNAS=mysql
  make_tls
  if [ ! -d "$DATADIR/mysql" ]; then
    log "initialising $DATADIR"
    mkdir -p "$DATADIR"
    chown "$RUNAS" "$DATADIR"
    "$INSTALL_DB" --no-defaults --user="$RUNAS" --datadir="$DATADIR" \
      --auth-root-authentication-method=socket --skip-test-db >&2
  fi
  log "starting $SERVER on 127.0.0.1:$PORT"
  # setsid + nohup: the server outlives this script and the CI step's shell.
  setsid nohup "$SERVER" --no-defaults --user="$RUNAS" --datadir="$DATADIR" --socket="$SOCKET" \
    --pid-file="$DATADIR/mysqld.pid" --log-error="$DATADIR/error.log" --port="$PORT" \
    --bind-address=127.0.0.1 --skip-name-resolve \
    --ssl-ca="$TLSDIR/ca.pem" --ssl-cert="$TLSDIR/server-cert.pem" --ssl-key="$TLSDIR/server-key.pem" \
    </dev/null >/dev/null 2>&1 &
  tries=0
  until answers; do
    tries=$((tries + 1))
    [ "$tries" -le 60 ] || { tail -n 30 "$DATADIR/error.log" >&2 || true; die "server did not answer within 60 s"; }
    sleep 1
  done
fi

# Root logs in over the socket (unix_socket auth); the password travels on stdin, never on a command line.
if [ -S "$SOCKET" ] && [ "$(id -u)" = 0 ]; then
  "$CLIENT" --no-defaults --socket="$SOCKET" -u root <<SQL
CREATE USER IF NOT EXISTS '$ADMIN'@'%' IDENTIFIED BY '$PASSWORD';
ALTER USER '$ADMIN'@'%' IDENTIFIED BY '$PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$ADMIN'@'%' WITH GRANT OPTION;
DROP USER IF EXISTS ''@'localhost';
-- As mysql_secure_installation does: no world-accessible test database, like a managed server.
DROP DATABASE IF EXISTS test;
DELETE FROM mysql.db WHERE Db = 'test' OR Db = 'test\\_%';
FLUSH PRIVILEGES;
SQL
  log "admin user $ADMIN ready"
else
  log "cannot reach $SOCKET as root; assuming $ADMIN already exists on the running server"
fi

echo "export K3SINFRA_TEST_MYSQL_URL=mysql://$ADMIN:$PASSWORD@127.0.0.1:$PORT"
if [ -s "$TLSDIR/ca.pem" ]; then echo "export K3SINFRA_TEST_MYSQL_CA=$TLSDIR/ca.pem"; fi

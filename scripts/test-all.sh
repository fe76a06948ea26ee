#!/usr/bin/env bash
# Installs and starts what the tests need, then runs every check: lint, typecheck, every test.
# Run from the repository root as `npx -y pnpm@10 test:all` (root is needed the first time, to install
# MariaDB, shellcheck, cloud-init, openssh-server and nginx from Debian's packages).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v cloud-init >/dev/null 2>&1 || need+=(cloud-init)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server mariadb-client)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# provider-hosts' lab: real sshd and nginx (with its stream module) in network namespaces.
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
[ -x /usr/sbin/nginx ] || need+=(nginx)
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] || need+=(libnginx-mod-stream)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test-all: missing ${need[*]}; run once as root (or apt-get install them) and try again" >&2
    exit 1
  fi
  echo "test-all: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends "${need[@]}" >&2
fi

# A real MariaDB on 127.0.0.1 for the datastore tests; prints the variables the tests read.
eval "$(sh .ci/mariadb.sh)"
export K3SINFRA_TEST_MYSQL_URL K3SINFRA_TEST_MYSQL_CA

pnpm lint
pnpm typecheck
pnpm test

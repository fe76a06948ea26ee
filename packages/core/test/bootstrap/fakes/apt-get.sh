#!/bin/sh
# A fake apt-get: `update` succeeds; `install` fails while $SANDBOX/apt-failures counts down (a held dpkg
# lock), then "installs" the fake client as mysql (mysql-client) or mariadb (mariadb-client).
. "$SANDBOX/fakes/record.sh"
case " $* " in *' update '*) exit 0 ;; esac
n=$(cat "$SANDBOX/apt-failures" 2>/dev/null || echo 0)
if [ "$n" -gt 0 ]; then
  echo $((n - 1)) >"$SANDBOX/apt-failures"
  echo 'E: Could not get lock /var/lib/dpkg/lock-frontend' >&2
  exit 100
fi
for pkg in "$@"; do :; done
grep -qx "$pkg" "$SANDBOX/apt-packages" || {
  echo "E: Unable to locate package $pkg" >&2
  exit 100
}
case "$pkg" in mysql-client) client=mysql ;; *) client=mariadb ;; esac
cp "$SANDBOX/fakes/mysql.sh" "$SANDBOX/bin/$client"
chmod 0755 "$SANDBOX/bin/$client"

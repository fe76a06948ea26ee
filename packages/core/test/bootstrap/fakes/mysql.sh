#!/bin/sh
# A fake mysql/mariadb client for the bootstrap sandbox. It records its argv, environment, option-file
# modes and the SQL it receives, and plays a tiny server whose state is files under $SANDBOX/db:
# admin ("user password"), users/<name> (password), dbs/<name>, grants/<user> (databases), refuse (count).
. "$SANDBOX/fakes/record.sh"
me=$(basename "$0")
if [ "$1" = --version ]; then
  case "$me" in
    mariadb) echo "mariadb  Ver 15.1 Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64) using EditLine wrapper" ;;
    *) echo "mysql  Ver 8.0.42-0ubuntu0.24.04.1 for Linux on x86_64 ((Ubuntu))" ;;
  esac
  exit 0
fi
fail() {
  echo "$1" >&2
  exit 1
}
case "$1" in
  --defaults-extra-file=*) cnf=${1#*=} ;;
  *) fail "fake $me: --defaults-extra-file must be the first option" ;;
esac
printf '%s %s\n' "$(stat -c %a "$cnf")" "$cnf" >>"$SANDBOX/cnf.log"
db='' sql='' prev=''
for a in "$@"; do
  case "$prev" in -D) db=$a ;; -e) sql=$a ;; esac
  prev=$a
done
S=$SANDBOX/db
refuse=$(cat "$S/refuse" 2>/dev/null || echo 0)
if [ "$refuse" -gt 0 ]; then
  echo $((refuse - 1)) >"$S/refuse"
  fail "ERROR 2003 (HY000): Can't connect to MySQL server on 'db.internal.example:3306' (111)"
fi
user=$(sed -n 's/^user=//p' "$cnf")
pass=$(sed -n 's/^password=//p' "$cnf")
admin=''
if [ "$user $pass" = "$(cat "$S/admin")" ]; then
  admin=1
elif [ ! -f "$S/users/$user" ] || [ "$(cat "$S/users/$user")" != "$pass" ]; then
  fail "ERROR 1045 (28000): Access denied for user '$user'@'10.0.1.23' (using password: YES)"
fi
if [ -n "$db" ]; then
  [ -f "$S/dbs/$db" ] || fail "ERROR 1049 (42000): Unknown database '$db'"
  [ -n "$admin" ] || grep -qx "$db" "$S/grants/$user" 2>/dev/null ||
    fail "ERROR 1044 (42000): Access denied for user '$user'@'%' to database '$db'"
fi
[ -n "$sql" ] || sql=$(cat)
printf -- '-- as %s\n%s\n' "$user" "$sql" >>"$SANDBOX/sql.log"
q() { printf '%s\n' "$line" | sed -n "$1"; }
printf '%s\n' "$sql" | while IFS= read -r line; do
  case "$line" in '' | 'SELECT 1') continue ;; esac
  [ -n "$admin" ] || fail "ERROR 1227 (42000): Access denied; you need (at least one of) the CREATE USER privilege(s)"
  case "$line" in
    'CREATE DATABASE IF NOT EXISTS `'*'`;') touch "$S/dbs/$(q 's/.*`\(.*\)`;$/\1/p')" ;;
    "CREATE USER IF NOT EXISTS '"*"'@'%' IDENTIFIED BY '"*"';")
      u=$(q "s/^[^']*'\([^']*\)'.*/\1/p")
      [ -f "$S/users/$u" ] || q "s/.* BY '\(.*\)';$/\1/p" >"$S/users/$u"
      ;;
    "ALTER USER '"*"'@'%' IDENTIFIED BY '"*"';")
      u=$(q "s/^[^']*'\([^']*\)'.*/\1/p")
      [ -f "$S/users/$u" ] || fail "ERROR 1396 (HY000): Operation ALTER USER failed for '$u'@'%'"
      q "s/.* BY '\(.*\)';$/\1/p" >"$S/users/$u"
      ;;
    "GRANT ALL PRIVILEGES ON \`"*"\`.* TO '"*"'@'%';")
      u=$(q "s/.* TO '\([^']*\)'.*/\1/p")
      [ -f "$S/users/$u" ] || fail "ERROR 1133 (28000): Can't find any matching row in the user table"
      q 's/.* ON `\(.*\)`\.\*.*/\1/p' >>"$S/grants/$u"
      ;;
    *) fail "ERROR 1064 (42000): You have an error in your SQL syntax near '$line' at line 1" ;;
  esac
done || exit 1

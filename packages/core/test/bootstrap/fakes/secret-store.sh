#!/bin/sh
# A fake node-side secret store client: `get <name>` prints $SANDBOX/store<name>, `put <name>` stores
# stdin there. The first $SANDBOX/store-get-failures gets (and store-put-failures puts) fail as while the
# node identity is not usable yet. Only names are arguments; values go through files and stdin.
. "$SANDBOX/fakes/record.sh"
countdown() {
  n=$(cat "$SANDBOX/$1" 2>/dev/null || echo 0)
  [ "$n" -gt 0 ] || return 1
  echo $((n - 1)) >"$SANDBOX/$1"
}
case "$1" in
  get)
    if countdown store-get-failures; then
      echo "AccessDeniedException: not authorized to perform ssm:GetParameter on $2" >&2
      exit 1
    fi
    [ -f "$SANDBOX/store$2" ] || { echo "ParameterNotFound: $2" >&2; exit 1; }
    cat "$SANDBOX/store$2"
    ;;
  put)
    if countdown store-put-failures; then
      echo "AccessDeniedException: not authorized to perform ssm:PutParameter on $2" >&2
      exit 1
    fi
    mkdir -p "$SANDBOX/store${2%/*}"
    cat >"$SANDBOX/store$2"
    ;;
  *) exit 2 ;;
esac

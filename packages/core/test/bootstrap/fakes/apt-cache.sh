#!/bin/sh
# A fake apt-cache: `show <pkg>` succeeds for the packages listed in $SANDBOX/apt-packages.
. "$SANDBOX/fakes/record.sh"
[ "$1" = show ] && grep -qx "$2" "$SANDBOX/apt-packages"

# Sourced by every fake: appends the argv and the environment of this call, so tests can assert that no
# secret is ever an argument or in an environment.
printf '%s\n' "$(basename "$0") $*" >>"$SANDBOX/argv.log"
env | tr '\n' ' ' >>"$SANDBOX/env.log"
echo >>"$SANDBOX/env.log"

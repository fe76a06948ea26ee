# Sourced by every fake: appends the argv and the environment of this call, so tests can assert that no
# secret is ever an argument or in an environment.
printf '%s\n' "$(basename "$0") $*" >>"$SANDBOX/argv.log"
env | tr '\n' ' ' >>"$SANDBOX/env.log"
echo >>"$SANDBOX/env.log"
# runBootstrapUnit's killOn: the first call matching the pattern kills the script (SIGKILL) before it acts.
if [ -f "$SANDBOX/kill-on" ]; then
  case "$(basename "$0") $*" in
    $(cat "$SANDBOX/kill-on"))
      rm -f "$SANDBOX/kill-on"
      kill -9 "$(cat "$SANDBOX/script.pid")"
      exit 137
      ;;
  esac
fi

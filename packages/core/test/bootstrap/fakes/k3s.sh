# Sourced by the fake k3s binary the fake installer writes ($K3S_FAKE_VERSION set): `--version`, and
# `kubectl get --raw /readyz`, which answers ok once the fake systemd has started K3s.
case "$1" in
  --version) echo "k3s version $K3S_FAKE_VERSION (fake)" ;;
  kubectl)
    . "$SANDBOX/fakes/record.sh"
    [ -f "$SANDBOX/k3s-started" ] || exit 1
    echo ok
    ;;
  *) exit 2 ;;
esac

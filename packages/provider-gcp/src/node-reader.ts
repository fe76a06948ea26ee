import type { NodeSecretReader } from "@k3sinfra/core";

/**
 * The GCP node-side secret reader: POSIX sh and curl only. The node's service account token comes from the
 * metadata server (https://cloud.google.com/compute/docs/access/authenticate-workloads#applications), and the
 * secret from the Secret Manager REST API: `versions/latest:access` to read, `:addVersion` to store
 * (https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/access).
 * The token never goes on a command line (argv shows in `ps`): curl reads its header from a 0600 config file
 * (`-K`), and a value travels on stdin and stdout only. `K3SINFRA_GCP_METADATA_URL` and
 * `K3SINFRA_GCP_SECRETS_URL` point elsewhere (an emulator) when set.
 * Exit status 1: Google refused (HTTP 4xx, e.g. 403 before the node's permission exists); 3: unreachable.
 */
const FUNCTIONS = `# Secret Manager with this instance's service account (k3sinfra, GCP).
k3sinfra_gcp_md() {
  curl -fsS -m 5 -H 'Metadata-Flavor: Google' "\${K3SINFRA_GCP_METADATA_URL:-http://metadata.google.internal}/computeMetadata/v1/$1"
}
# Writes a curl config holding the Authorization header to a new 0600 file and prints its path.
k3sinfra_gcp_auth() {
  _t=$(k3sinfra_gcp_md instance/service-accounts/default/token | sed -n 's/.*"access_token" *: *"\\([^"]*\\)".*/\\1/p') || return 3
  [ -n "$_t" ] || return 3
  _c=$(umask 077 && mktemp) || return 3
  printf 'header = "Authorization: Bearer %s"\\n' "$_t" > "$_c"
  _t=
  printf '%s\\n' "$_c"
}
k3sinfra_gcp_url() {
  _p=$(k3sinfra_gcp_md project/project-id) || return 3
  printf '%s/v1/projects/%s/secrets/%s' "\${K3SINFRA_GCP_SECRETS_URL:-https://secretmanager.googleapis.com}" "$_p" "$1"
}
# Prints the latest version of secret $1.
k3sinfra_secret() {
  _u=$(k3sinfra_gcp_url "$1") || return 3
  _c=$(k3sinfra_gcp_auth) || return 3
  _o=$(curl -sS -m 10 -K "$_c" -w '\\n%{http_code}' "$_u/versions/latest:access"); _s=$?
  rm -f "$_c"
  [ $_s -eq 0 ] || return 3
  _code=$(printf '%s\\n' "$_o" | tail -n 1)
  if [ "$_code" != 200 ]; then echo "k3sinfra_secret $1: HTTP $_code" >&2; return 1; fi
  printf '%s\\n' "$_o" | sed -n 's/.*"data" *: *"\\([^"]*\\)".*/\\1/p' | base64 -d
}
# Stores stdin as a new version of secret $1.
k3sinfra_secret_put() {
  _u=$(k3sinfra_gcp_url "$1") || return 3
  _c=$(k3sinfra_gcp_auth) || return 3
  _code=$({ printf '{"payload":{"data":"'; base64 | tr -d '\\n'; printf '"}}'; } |
    curl -sS -m 10 -K "$_c" -H 'Content-Type: application/json' --data-binary @- -o /dev/null -w '%{http_code}' "$_u:addVersion"); _s=$?
  rm -f "$_c"
  [ $_s -eq 0 ] || return 3
  if [ "$_code" != 200 ]; then echo "k3sinfra_secret_put $1: HTTP $_code" >&2; return 1; fi
}`;

/** The GCP node-side secret reader: shell functions only (curl, sed, base64 are in Ubuntu's images). */
export const gcpSecretReader: NodeSecretReader = { files: [], functions: FUNCTIONS };

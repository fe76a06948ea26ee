import type { NodeSecretReader } from "@k3sinfra/core";

/**
 * The Azure node-side secret reader: POSIX sh, curl and python3 (Ubuntu's images have them). The token of
 * the VM's managed identity (its only user-assigned one) comes from the Instance Metadata Service
 * (https://learn.microsoft.com/en-us/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http),
 * the secret from the Key Vault REST API: `GET {vault}/secrets/{name}` to read, `PUT` to store
 * (https://learn.microsoft.com/en-us/rest/api/keyvault/secrets/get-secret/get-secret). A name is
 * `<vault>/<secret>`. The token never goes on a command line (argv shows in `ps`): curl reads its header from
 * a 0600 config file (`-K`), and a value travels on stdin and stdout only; python3 decodes and encodes the JSON
 * (a kubeconfig has newlines and quotes). `K3SINFRA_AZURE_IMDS_URL` and `K3SINFRA_AZURE_VAULT_URL` (a prefix
 * the vault name is appended to) point elsewhere (the emulator) when set.
 * Exit status 1: Azure refused (HTTP 4xx, e.g. 403 while the role assignment propagates); 3: unreachable.
 */
const FUNCTIONS = `# Key Vault with this VM's managed identity (k3sinfra, Azure).
# Writes a curl config holding the Authorization header to a new 0600 file and prints its path.
k3sinfra_az_auth() {
  _t=$(curl -fsS -m 5 -H 'Metadata: true' "\${K3SINFRA_AZURE_IMDS_URL:-http://169.254.169.254}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net" | sed -n 's/.*"access_token" *: *"\\([^"]*\\)".*/\\1/p') || return 3
  [ -n "$_t" ] || return 3
  _c=$(umask 077 && mktemp) || return 3
  printf 'header = "Authorization: Bearer %s"\\n' "$_t" > "$_c"
  _t=
  printf '%s\\n' "$_c"
}
k3sinfra_az_url() {
  if [ -n "\${K3SINFRA_AZURE_VAULT_URL:-}" ]; then
    printf '%s/%s/secrets/%s?api-version=7.4' "$K3SINFRA_AZURE_VAULT_URL" "\${1%%/*}" "\${1#*/}"
  else
    printf 'https://%s.vault.azure.net/secrets/%s?api-version=7.4' "\${1%%/*}" "\${1#*/}"
  fi
}
# Prints the latest version of secret $1.
k3sinfra_secret() {
  _u=$(k3sinfra_az_url "$1")
  _c=$(k3sinfra_az_auth) || return 3
  _o=$(curl -sS -m 10 -K "$_c" -w '\\n%{http_code}' "$_u"); _s=$?
  rm -f "$_c"
  [ $_s -eq 0 ] || return 3
  _code=$(printf '%s\\n' "$_o" | tail -n 1)
  if [ "$_code" != 200 ]; then echo "k3sinfra_secret $1: HTTP $_code" >&2; return 1; fi
  printf '%s\\n' "$_o" | sed '$d' | python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)["value"])'
}
# Stores stdin as a new version of secret $1.
k3sinfra_secret_put() {
  _u=$(k3sinfra_az_url "$1")
  _c=$(k3sinfra_az_auth) || return 3
  _code=$(python3 -c 'import json,sys; sys.stdout.write(json.dumps({"value": sys.stdin.read()}))' |
    curl -sS -m 10 -K "$_c" -X PUT -H 'Content-Type: application/json' --data-binary @- -o /dev/null -w '%{http_code}' "$_u"); _s=$?
  rm -f "$_c"
  [ $_s -eq 0 ] || return 3
  if [ "$_code" != 200 ]; then echo "k3sinfra_secret_put $1: HTTP $_code" >&2; return 1; fi
}`;

/** The Azure node-side secret reader: shell functions only. */
export const azureSecretReader: NodeSecretReader = { files: [], functions: FUNCTIONS };

/**
 * The AWS node-side secret reader: what a node's user data carries so that its boot script can read the
 * cluster's secrets from SSM Parameter Store (and server 0 can write its kubeconfig there) with the
 * instance's own IAM role, instead of carrying the secrets themselves.
 *
 * How core uses it (`BootstrapInput.secretReader`):
 * 1. cloud-init writes every entry of `files` (owner root:root, the given mode) before the boot script runs;
 * 2. the boot script defines `functions` next to `k3sinfra_meta`, then calls
 *    - `k3sinfra_secret <name>`: prints the SecureString `<name>` on stdout (exactly the value; `$(…)`
 *      drops a trailing newline). Non-zero on failure, with the parameter and the AWS error code on stderr.
 *    - `k3sinfra_secret_put <name>`: stores stdin as the SecureString `<name>` (Overwrite).
 *    Exit status 1: AWS refused (AccessDeniedException, ParameterNotFound…); 3: gave up after 10 attempts
 *    with backoff (IMDS or SSM unreachable, throttled, 5xx). A caller waiting for IAM to settle after the
 *    role was created may retry status 1 for AccessDeniedException too.
 * The node needs: an instance profile whose role allows `ssm:GetParameter` on
 * `arn:aws:ssm:<region>:<account>:parameter/k3sinfra/<cluster>/*` (and `ssm:PutParameter` on the
 * kubeconfig parameter only); no KMS statement with the default `aws/ssm` key, whose key policy lets
 * every principal of the account decrypt through SSM
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html);
 * IMDSv2 reachable (hop limit 1 is enough: the reader runs on the host); egress to
 * `ssm.<region>.amazonaws.com:443` (internet, NAT or an `ssm` VPC interface endpoint); python3 (in
 * Ubuntu's cloud images).
 */
import type { NodeSecretReader } from "@k3sinfra/core";
import { SSM_CLIENT_PROGRAM } from "./program.js";

export { SSM_CLIENT_PROGRAM, SSM_CLIENT_SOURCE } from "./program.js";

/**
 * Where cloud-init writes the program. A file (0700, root) rather than `python3 -c <program>` or the
 * program on stdin: stdin carries the value for `put`, argv would show 8 KB of code in `ps`, and an
 * operator can run the same file by hand (`/usr/local/lib/k3sinfra/ssm.py get /k3sinfra/<cluster>/…`).
 */
export const SSM_CLIENT_PATH = "/usr/local/lib/k3sinfra/ssm.py";

/**
 * `python3 -I`: isolated mode, so no PYTHON* variable, user site or working directory changes what runs
 * (https://docs.python.org/3/using/cmdline.html#cmdoption-I). Only the parameter name is an argument.
 */
const SHELL_FUNCTIONS = `# Prints the secret parameter $1 from SSM Parameter Store, read with this instance's IAM role.
k3sinfra_secret() { python3 -I ${SSM_CLIENT_PATH} get "$1"; }
# Stores stdin as the secret parameter $1 (SSM SecureString, overwritten).
k3sinfra_secret_put() { python3 -I ${SSM_CLIENT_PATH} put "$1"; }`;

/** The AWS node-side secret reader: the SSM client program and the two shell functions calling it. */
export const awsSecretReader: NodeSecretReader = {
  files: [{ path: SSM_CLIENT_PATH, permissions: "0700", content: SSM_CLIENT_PROGRAM }],
  functions: SHELL_FUNCTIONS,
};

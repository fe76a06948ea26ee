import {
  AuthFailedError,
  K3sinfraError,
  type K3sinfraErrorOptions,
  ProviderError,
  TimeoutError,
} from "../errors.js";

/** The driver error fields we read (mysql2 and Node's net/tls errors). */
interface DriverError {
  code?: string;
  errno?: number;
  sqlMessage?: string;
  message?: string;
}

/** Where a failure happened, for the message; `secrets` are scrubbed from anything the server echoed. */
export interface ErrorContext {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** What was being done, e.g. `connecting as the admin user`. */
  readonly action: string;
  readonly secrets: readonly string[];
}

const ACCESS_DENIED = new Set([
  "ER_ACCESS_DENIED_ERROR",
  "ER_DBACCESS_DENIED_ERROR",
  "ER_ACCESS_DENIED_NO_PASSWORD_ERROR",
]);
const NOT_PRIVILEGED = new Set([
  "ER_SPECIFIC_ACCESS_DENIED_ERROR",
  "ER_TABLEACCESS_DENIED_ERROR",
  "ER_CANNOT_USER",
  "ER_PASSWORD_NO_MATCH",
]);
const TLS_CODES =
  /^(ERR_TLS_|ERR_SSL_|HANDSHAKE_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|CERT_)/;

/** The server refused a plaintext connection: retry over TLS with the provider's CA bundle. */
export class TlsRequiredError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("TlsRequired", message, options);
  }
}

const scrub = (text: string, secrets: readonly string[]): string =>
  secrets.reduce((t, s) => (s === "" ? t : t.split(s).join("********")), text);

/**
 * Turns a driver error into a typed k3sinfra error that names host:port and what to check. The driver
 * error is never kept as `cause`: mysql2 attaches the SQL text, which holds passwords for CREATE/ALTER USER.
 */
export function datastoreError(error: unknown, ctx: ErrorContext): K3sinfraError {
  if (K3sinfraError.is(error)) return error;
  const e = (typeof error === "object" && error !== null ? error : { message: String(error) }) as DriverError;
  const code = e.code ?? "UNKNOWN";
  const detail = scrub(e.sqlMessage ?? e.message ?? code, ctx.secrets);
  const where = `${ctx.host}:${ctx.port}`;
  if (ACCESS_DENIED.has(code) || e.errno === 1045)
    return new AuthFailedError(
      `The datastore at ${where} denied access to user '${ctx.user}' while ${ctx.action} (${detail}). ` +
        "Check the user name and password.",
    );
  if (code === "ER_HOST_NOT_PRIVILEGED" || e.errno === 1130)
    return new AuthFailedError(
      `The datastore at ${where} does not accept user '${ctx.user}' from this address (${detail}).`,
    );
  if (NOT_PRIVILEGED.has(code))
    return new AuthFailedError(
      `User '${ctx.user}' lacks a privilege needed for ${ctx.action} at ${where} (${detail}). The admin user ` +
        "must be able to create databases and users and grant ALL on the K3s database.",
    );
  if (code === "ETIMEDOUT" || code === "PROTOCOL_SEQUENCE_TIMEOUT")
    return new TimeoutError(
      `Timed out ${ctx.action} at ${where}. Check the host and port, and that a firewall admits this ` +
        "machine: the datastore accepts connections only from the K3s nodes' group.",
      { retryable: true },
    );
  if (code === "ECONNREFUSED" || code === "EHOSTUNREACH" || code === "ENETUNREACH" || code === "ECONNRESET")
    return new ProviderError(
      `Could not reach the datastore at ${where} (${code}) while ${ctx.action}. Check that the server is ` +
        "running, the port, and that this machine may connect to it.",
      { retryable: true },
    );
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return new ProviderError(
      `The datastore host ${ctx.host} does not resolve (${code}). Check the host name.`,
      {
        retryable: code === "EAI_AGAIN",
      },
    );
  // A managed server with require_secure_transport (https://dev.mysql.com/doc/refman/8.4/en/server-system-variables.html#sysvar_require_secure_transport).
  if (code === "ER_SECURE_TRANSPORT_REQUIRED" || e.errno === 3159)
    return new TlsRequiredError(
      `The datastore at ${where} accepts TLS connections only (require_secure_transport); connect with its CA bundle.`,
    );
  if (TLS_CODES.test(code))
    return new ProviderError(
      `TLS to the datastore at ${where} failed (${code}: ${detail}). Check the CA bundle and that the host ` +
        "name matches the server certificate (connect by DNS name, not IP: k3s-io/k3s#1763).",
    );
  return new ProviderError(`The datastore at ${where} failed while ${ctx.action}: ${code}: ${detail}`);
}

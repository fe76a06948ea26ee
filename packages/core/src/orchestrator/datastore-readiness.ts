import type { ClusterConfig } from "../config/schema.js";
import { TlsRequiredError } from "../datastore/errors.js";
import { checkDatastore } from "../datastore/index.js";
import { K3sinfraError, ProviderError } from "../errors.js";
import type { DatastoreState } from "../resources/datastore.js";
import { Secret } from "../secret.js";
import type { ClusterSecrets } from "../state/types.js";

/** What the readiness check found, recorded in state (no secrets). */
export type ReadinessResult =
  | {
      readonly status: "ready";
      readonly serverVersion: string;
      readonly flavor: string;
      readonly created: { readonly database: boolean; readonly user: boolean };
      readonly warnings: readonly string[];
    }
  | { readonly status: "skipped"; readonly reason: string };

/**
 * Unreachable from here: refused, timed out, no route, or a private name that does not resolve outside the
 * network — as opposed to a wrong password, a TLS failure or an unsupported version.
 */
const unreachable = (error: unknown): boolean =>
  K3sinfraError.is(error) &&
  (error.code === "Timeout" ||
    (error.code === "ProviderError" && (error.retryable || error.message.includes("does not resolve"))));

/**
 * Connects to the datastore from this machine, checks the server version K3s supports, and creates the
 * K3s database and least-privilege user. A managed datastore is never public, so with `check: auto` an
 * unreachable server is skipped (node 0 prepares the database itself at boot); a wrong password or an
 * unsupported server always fails.
 */
export async function datastoreReadiness(args: {
  config: ClusterConfig;
  secrets: ClusterSecrets;
  datastore: DatastoreState;
  address: { host: string; port: number };
  signal: AbortSignal;
  /** Where the provider's datastore CA bundle is (its `datastoreCaUrl`), for a server that requires TLS. */
  caUrl?: string | undefined;
  /** Downloads the CA bundle (default: fetch over HTTPS, 10 s); injectable for tests. */
  fetchCa?: (url: string, signal: AbortSignal) => Promise<string>;
  /** The check itself (default `checkDatastore`); injectable for tests. */
  check?: typeof checkDatastore;
  /** The provider whose datastore service checked the server itself (`capabilities.datastoreCheck: "provider"`). */
  checkedBy?: string | undefined;
}): Promise<ReadinessResult> {
  const { config, secrets, datastore } = args;
  const mode = config.datastore.check;
  if (mode === "off") return { status: "skipped", reason: "datastore.check is off" };
  if (args.checkedBy)
    return {
      status: "skipped",
      reason: `the ${args.checkedBy} provider checked the server when it created the database`,
    };
  const check = args.check ?? checkDatastore;
  const attempt = (tls: { ca?: string } | undefined) =>
    check({
      host: args.address.host,
      port: args.address.port,
      adminUser: config.datastore.username,
      adminPassword: new Secret(secrets.datastorePassword),
      database: config.datastore.databaseName,
      k3sUser: config.datastore.k3sUsername,
      k3sPassword: new Secret(secrets.datastoreK3sPassword),
      ...(tls ? { tls } : {}),
      connectTimeoutMs: mode === "required" ? 30_000 : 5_000,
      signal: args.signal,
    });
  try {
    let report: Awaited<ReturnType<typeof checkDatastore>>;
    try {
      report = await attempt(
        datastore.tls.required ? (datastore.tls.caBundle ? { ca: datastore.tls.caBundle } : {}) : undefined,
      );
    } catch (error) {
      // A server that refuses plaintext (require_secure_transport on) is retried over TLS, verified with
      // the provider's CA bundle, as the nodes connect.
      if (!(error instanceof TlsRequiredError) || !args.caUrl) throw error;
      const ca = await (args.fetchCa ?? downloadCa)(args.caUrl, args.signal).catch((cause: unknown) => {
        throw new ProviderError(
          `${error.message} Its CA bundle could not be downloaded from ${args.caUrl} (${cause instanceof Error ? cause.message : String(cause)}).`,
          { retryable: true },
        );
      });
      report = await attempt({ ca });
    }
    return {
      status: "ready",
      serverVersion: report.serverVersion,
      flavor: report.flavor,
      created: report.created,
      warnings: report.warnings,
    };
  } catch (error) {
    if (mode === "auto" && unreachable(error)) {
      return {
        status: "skipped",
        reason: `not reachable from this machine (${(error as Error).message}); node 0 prepares the database at boot`,
      };
    }
    throw error;
  }
}

/** The CA bundle over HTTPS (a PEM file), within 10 s. */
async function downloadCa(url: string, signal: AbortSignal): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const pem = await res.text();
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new Error("not a PEM certificate bundle");
  return pem;
}

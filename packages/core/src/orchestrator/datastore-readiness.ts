import type { ClusterConfig } from "../config/schema.js";
import { checkDatastore } from "../datastore/index.js";
import { K3sinfraError } from "../errors.js";
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
}): Promise<ReadinessResult> {
  const { config, secrets, datastore } = args;
  const mode = config.datastore.check;
  if (mode === "off") return { status: "skipped", reason: "datastore.check is off" };
  try {
    const report = await checkDatastore({
      host: args.address.host,
      port: args.address.port,
      adminUser: config.datastore.username,
      adminPassword: new Secret(secrets.datastorePassword),
      database: config.datastore.databaseName,
      k3sUser: config.datastore.k3sUsername,
      k3sPassword: new Secret(secrets.datastoreK3sPassword),
      ...(datastore.tls.required
        ? { tls: datastore.tls.caBundle ? { ca: datastore.tls.caBundle } : {} }
        : {}),
      connectTimeoutMs: mode === "required" ? 30_000 : 5_000,
      signal: args.signal,
    });
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

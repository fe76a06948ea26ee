import type { ResolvedConfig } from "../../config/resolve.js";
import { type SecretKey, SecretStoreService, type SecretsState } from "../../resources/secret-store.js";
import { AFTER, hash, replacedReason, serviceHandler } from "./shared.js";
import type { KindDescription } from "./types.js";

/**
 * Secrets kept only until another exists: the datastore admin password until server 0 stored its kubeconfig
 * (K3s runs, so its datastore user exists and no node needs the admin password again).
 */
export const SECRET_LIFETIMES: Readonly<Partial<Record<SecretKey, SecretKey>>> = {
  "datastore-admin-password": "kubeconfig",
};

/** Whether the cluster keeps its secrets in the compute provider's secret store (else in user data). */
export const usesSecretStore = (r: ResolvedConfig): boolean => r.compute.roles.includes("secretStore");

/** The cluster's secret store: filled before any node exists, since nodes read their secrets at boot. */
export const secrets: KindDescription<SecretsState> = {
  role: "compute",
  dependsOn: [],
  ids: (r) => (usesSecretStore(r) ? ["secrets"] : []),
  timeoutMs: 5 * 60_000,
  expectedSeconds: { create: 2, delete: 2 },
  // Nodes read their secrets only at boot; the store goes with them.
  deleteRank: 1,
  label: "the secrets",
  sweeps: true,
  // Only where this cluster's provider serves a store (no store: no secrets to sweep).
  servedBy: usesSecretStore,
  updatable: () => "all",
  canRepair: () => true,
  inputs: (builder): Record<string, string> => {
    const s = builder.secrets;
    if (!s) return { values: AFTER };
    // Hashes of random secrets: a changed value is an update, never readable from the state.
    return {
      "k3s-token": hash(s.k3sToken),
      "datastore-password": hash(s.datastoreK3sPassword),
      "datastore-admin-password": hash(s.datastorePassword),
      ...(builder.config.rancher.install
        ? { "rancher-bootstrap-password": hash(s.rancherBootstrapPassword) }
        : {}),
    };
  },
  handler: (run) => {
    const builder = run.builder();
    return serviceHandler(run.container.resolve(SecretStoreService), () => builder.secretsSpec());
  },
  deposedReason: replacedReason,
  // Stored secrets whose lifetime ended (SECRET_LIFETIMES): the node-written secret they wait for exists.
  retiring: (live) => {
    const versions: Readonly<Record<string, string | undefined>> = live.versions ?? {};
    const written: Readonly<Record<string, string | undefined>> = live.nodeWritten ?? {};
    return Object.entries(SECRET_LIFETIMES)
      .filter(
        ([key, until]) => versions[key] !== undefined && until !== undefined && written[until] !== undefined,
      )
      .map(([key]) => key);
  },
};

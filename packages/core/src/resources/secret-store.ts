import type { Secret } from "../secret.js";
import { token } from "../tokens.js";
import type { ResourceContext, ResourceService, ResourceState } from "./common.js";

/**
 * Short names of the secrets a cluster keeps. The orchestrator stores the token and the passwords (the admin
 * password only while a node may still need it to create the K3s user; Rancher's bootstrap password only when
 * the cluster installs Rancher, for server 0's manifest); server 0 writes `kubeconfig` itself once K3s
 * serves, and `k3sinfra kubeconfig` reads it back.
 */
export type SecretKey =
  | "k3s-token"
  | "datastore-password"
  | "datastore-admin-password"
  | "rancher-bootstrap-password"
  | "kubeconfig";

/** Every `SecretKey`, in the order stores list them. */
export const SECRET_KEYS: readonly SecretKey[] = [
  "k3s-token",
  "datastore-password",
  "datastore-admin-password",
  "rancher-bootstrap-password",
  "kubeconfig",
];

/** The keys server 0 writes, never k3sinfra: outside the managed set, but deleted with the cluster. */
export const NODE_WRITTEN_SECRETS: ReadonlySet<SecretKey> = new Set(["kubeconfig"]);

/** The secrets one cluster keeps in the store, by short name. */
export interface SecretsSpec {
  /** Values to store, by short name; a key left out is deleted from the store (except `kubeconfig`). */
  readonly values: Readonly<Partial<Record<SecretKey, Secret>>>;
  /**
   * Keys kept only until another exists: `{ "datastore-admin-password": "kubeconfig" }` keeps the admin
   * password until server 0 stored its kubeconfig (proof that K3s, so its datastore user, is up), then
   * deletes it, so nodes can no longer read it.
   */
  readonly until?: Readonly<Partial<Record<SecretKey, SecretKey>>>;
}

/** The stored secrets as built: where each one is, never a value. */
export interface SecretsState extends ResourceState {
  /** The name each managed secret is stored under (what a node reads it by), by short name. */
  readonly names: Readonly<Partial<Record<SecretKey, string>>>;
  /** The store's version of each managed value present: a value changed outside k3sinfra shows as drift. */
  readonly versions: Readonly<Partial<Record<SecretKey, string>>>;
  /**
   * Versions of the secrets the nodes write (`kubeconfig`), when present. Expected to change, so never
   * drift; its appearance is what retires the keys in `SecretsSpec.until`.
   */
  readonly nodeWritten?: Readonly<Partial<Record<SecretKey, string>>>;
}

/**
 * Named secrets owned by the cluster, readable by its nodes with their own identity (e.g. a cloud's
 * parameter or secret store under `/k3sinfra/<cluster>/`, read with the node's role). User data then carries
 * only the names; the provider's `secretReader` (on the descriptor) prints one value on the node.
 */
export interface SecretStoreService extends ResourceService<SecretsSpec, SecretsState> {
  /** The name a secret is stored under; known before it exists, so user data can carry it. */
  nameOf(cluster: string, key: SecretKey): string;
  /** Reads one stored value with the caller's credentials (e.g. the kubeconfig); `undefined` when absent. */
  reveal(key: SecretKey, ctx: ResourceContext): Promise<Secret | undefined>;
}

/** Injection token for the SecretStoreService contract. */
export const SecretStoreService = token<SecretStoreService>("SecretStoreService");

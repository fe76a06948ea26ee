import { readFileSync } from "node:fs";
import type { NodeSecretNames, NodeSecretReader, StoreSecretsInput } from "../../src/bootstrap/index.js";
import { ADMIN, ADMIN_PASSWORD, CA_URL, DB_PASSWORD, TEST_METADATA_READER, TOKEN } from "./fixtures.js";

/** Where the orchestrator would have stored the secrets (AWS-style parameter names). */
export const NAMES = {
  k3sToken: "/k3sinfra/test/k3s-token",
  datastorePassword: "/k3sinfra/test/datastore-password",
  datastoreAdminPassword: "/k3sinfra/test/datastore-admin-password",
  kubeconfig: "/k3sinfra/test/kubeconfig",
  rancherBootstrapPassword: "/k3sinfra/test/rancher-bootstrap-password",
} as const satisfies NodeSecretNames;

/** Rancher's bootstrap password in the fake store (read by server 0 only when it installs Rancher). */
export const RANCHER_PASSWORD = "RancherBootstrapSecret0123";

/** The fake store's content: every secret under its name. */
export const STORE_VALUES: Readonly<Record<string, string>> = {
  [NAMES.k3sToken]: TOKEN,
  [NAMES.datastorePassword]: DB_PASSWORD,
  [NAMES.datastoreAdminPassword]: ADMIN_PASSWORD,
  [NAMES.rancherBootstrapPassword]: RANCHER_PASSWORD,
};

export const FAKE_READER_PATH = "/usr/local/lib/k3sinfra/secret-store.sh";

/** A reader like a provider's: one file cloud-init writes, two functions calling it (names only in argv). */
export const FAKE_SECRET_READER: NodeSecretReader = {
  files: [
    {
      path: FAKE_READER_PATH,
      permissions: "0700",
      content: readFileSync(new URL("./fakes/secret-store.sh", import.meta.url), "utf8"),
    },
  ],
  functions: [
    `k3sinfra_secret() { sh ${FAKE_READER_PATH} get "$1"; }`,
    `k3sinfra_secret_put() { sh ${FAKE_READER_PATH} put "$1"; }`,
  ].join("\n"),
};

/** The kubeconfig the fake systemd writes when K3s starts. */
export const FAKE_KUBECONFIG = readFileSync(new URL("./fakes/k3s.yaml", import.meta.url), "utf8");

/** A valid store-mode input for server `index` of `count` with the admin and the CA by URL; override any part. */
export function storeInput(
  index: number,
  count: number,
  over: Partial<StoreSecretsInput> = {},
): StoreSecretsInput {
  return {
    index,
    count,
    k3sVersion: "v1.33.12+k3s1",
    datastore: { user: "k3s", database: "k3s", admin: { user: ADMIN.user }, tls: { caUrl: CA_URL } },
    hostname: "rancher.example.com",
    loadBalancer: { mode: "l4", addresses: ["203.0.113.10"] },
    metadataReader: TEST_METADATA_READER,
    secretReader: FAKE_SECRET_READER,
    secretNames: NAMES,
    ...over,
  };
}

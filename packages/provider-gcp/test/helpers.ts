import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ClusterConfig,
  type ClusterConfigInput,
  ClusterConfigSchema,
  type ServiceKind,
} from "@k3sinfra/core";
import { type Emulator, type InventoryItem, startEmulator, type VirtualClock } from "@k3sinfra/emulator";

export const PROJECT = "k3sinfra-test";
export const REGION = "us-central1";
export const ZONES = ["us-central1-a", "us-central1-b"] as const;
export const ROLES: readonly ServiceKind[] = ["network", "nodes", "datastore"];

/** The config of a cluster on the emulated project, as a user writes it. */
export const configInput = (name: string): ClusterConfigInput => ({
  name,
  provider: "gcp",
  region: REGION,
  zones: [...ZONES],
  dns: { zone: "example.com" },
  rancher: { hostname: `rancher.${name}.example.com` },
});

/** The same with the datastore check off: the emulated Cloud SQL has no database behind it. */
export const uncheckedConfig = (name: string): ClusterConfigInput => ({
  ...configInput(name),
  datastore: { deletionProtection: false, check: "off" },
});

/** A config as core would validate it, for a cluster name. */
export const testConfig = (name: string): ClusterConfig => ClusterConfigSchema.parse(configInput(name));

/**
 * A service account key file as `gcloud iam service-accounts keys create` writes it: the clients sign
 * self-signed JWTs with its key (Application Default Credentials, as in production), and the emulator
 * only requires that a credential is sent.
 */
export function serviceAccountKeyFile(): string {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-gcp-"));
  const path = join(dir, "key.json");
  writeFileSync(
    path,
    JSON.stringify({
      type: "service_account",
      project_id: PROJECT,
      private_key_id: "0123456789abcdef",
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
      client_email: `k3sinfra@${PROJECT}.iam.gserviceaccount.com`,
      client_id: "100000000000000000001",
      token_uri: "https://oauth2.googleapis.com/token",
    }),
    { mode: 0o600 },
  );
  return path;
}

let keyFile: string | undefined;

/** An emulator serving Google Cloud, and the environment that points the provider at it. */
export async function startGcp(
  seed = 7,
  virtualClock?: VirtualClock,
): Promise<{ emulator: Emulator; env: Record<string, string> }> {
  const emulator = await startEmulator({
    clouds: ["gcp"],
    // On a virtual clock, real durations cost nothing: emulated time passes only while the clients wait.
    timeScale: virtualClock ? 1 : 0.001,
    ...(virtualClock ? { virtualClock } : {}),
    seed,
    fixtures: { gcp: { privateServicesAccess: true, managedZones: ["example.com"] } },
    log: () => undefined,
  });
  keyFile ??= serviceAccountKeyFile();
  return {
    emulator,
    env: {
      K3SINFRA_GCP_ENDPOINT: emulator.url,
      GOOGLE_APPLICATION_CREDENTIALS: keyFile,
      GOOGLE_CLOUD_PROJECT: PROJECT,
    },
  };
}

/** Ownership tags as the emulator stores them: labels (`k3sinfra-cluster`), or a description marker. */
const asLabels = (tags: Readonly<Record<string, string>>) =>
  Object.fromEntries(Object.entries(tags).map(([k, v]) => [k.replace(":", "-"), v.toLowerCase()]));

/** Whether an inventory item carries every tag, as a label or in its description's marker. */
export const carries = (item: InventoryItem, tags: Readonly<Record<string, string>>): boolean =>
  Object.entries(asLabels(tags)).every(
    ([k, v]) =>
      item.tags[k] === v || new RegExp(`\\[k3sinfra [^\\]]*\\b${k}=${v}( |\\])`).test(item.comment ?? ""),
  );

import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EmulatedCloudModule } from "./types.js";

/** The emulated project. */
const PROJECT = "k3sinfra-emulated";

let keyFile: string | undefined;

/**
 * A service account key for the emulated project (what `gcloud iam service-accounts keys create` writes): the
 * provider signs its requests with it through Application Default Credentials, as against Google. Made once
 * per process, in a fresh 0700 directory, the file 0600.
 */
const emulatedKeyFile = (): string => {
  if (keyFile) return keyFile;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-gcp-emulated-"));
  const path = join(dir, "service-account.json");
  writeFileSync(
    path,
    JSON.stringify({
      type: "service_account",
      project_id: PROJECT,
      private_key_id: "emulated",
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
      client_email: `k3sinfra@${PROJECT}.iam.gserviceaccount.com`,
      token_uri: "https://oauth2.googleapis.com/token",
    }),
    { mode: 0o600 },
  );
  keyFile = path;
  return path;
};

/** Compute Engine, Cloud SQL, Cloud DNS, IAM and Secret Manager on one endpoint. */
export const gcpCloud: EmulatedCloudModule = {
  cloud: "gcp",
  providers: ["gcp", "clouddns"],
  compute: true,
  dns: true,
  realVars: [
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_PROJECT",
    "GCLOUD_PROJECT",
    "CLOUDSDK_CORE_PROJECT",
    "CLOUDSDK_CONFIG",
    "GOOGLE_CLOUD_QUOTA_PROJECT",
  ],
  realOptions: ["endpoint", "project", "network", "subnetwork", "dnsZone", "image"],
  // The config's zone exists, and the default network has private services access (Cloud SQL's private IP
  // needs it; the preflight refuses a network without it, as in a real project).
  fixtures: ({ zone }) => ({ gcp: { privateServicesAccess: true, managedZones: zone ? [zone] : [] } }),
  env: (emulator) => ({
    ...(emulator.endpoints.gcp ? { K3SINFRA_GCP_ENDPOINT: emulator.endpoints.gcp } : {}),
    GOOGLE_APPLICATION_CREDENTIALS: emulatedKeyFile(),
    GOOGLE_CLOUD_PROJECT: PROJECT,
  }),
  // A Cloud SQL private IP is not reachable from here; with a real MariaDB behind it, the emulator proxies the
  // instance on a local port (one cluster per emulated project), which is where the readiness check connects.
  datastoreAddress: (emulator) => {
    const backed = emulator
      .inventory({ cloud: "gcp" })
      .filter((i) => i.type === "sql-instance" && i.connect !== undefined);
    return backed.length === 1 ? backed[0]?.connect : undefined;
  },
};

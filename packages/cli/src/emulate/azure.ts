import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EmulatedCloudModule } from "./types.js";

/** The resource group the config's DNS zone lives in, in the emulated subscription. */
const DNS_RESOURCE_GROUP = "dns";

const caFiles = new Map<string, string>();

/**
 * The emulator's CA (made when it started) in a file the provider trusts through `AZURE_CA_FILE`: Azure's
 * clients send their bearer token over HTTPS only. A fresh 0700 directory, the file 0600.
 */
const caFile = (pem: string): string => {
  const known = caFiles.get(pem);
  if (known) return known;
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-azure-emulated-"));
  const path = join(dir, "ca.pem");
  writeFileSync(path, pem, { mode: 0o600 });
  caFiles.set(pem, path);
  return path;
};

/** Azure Resource Manager, Entra ID's token endpoint, Key Vault and IMDS, over HTTPS. */
export const azureCloud: EmulatedCloudModule = {
  cloud: "azure",
  providers: ["azure", "azuredns"],
  compute: true,
  dns: true,
  // Every other way DefaultAzureCredential could find a real identity.
  realVars: [
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_CONFIG_DIR",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "MSI_ENDPOINT",
    "MSI_SECRET",
  ],
  realOptions: ["endpoint", "authorityHost", "caFile", "subscriptionId", "resourceGroup", "dnsResourceGroup"],
  fixtures: ({ zone }) => ({
    azure: { dnsZones: zone ? [{ zone, resourceGroup: DNS_RESOURCE_GROUP }] : [] },
  }),
  env: (emulator) => {
    const c = emulator.credentials.azure;
    const endpoint = emulator.endpoints.azure ?? "";
    return {
      AZURE_TENANT_ID: c.tenantId,
      AZURE_CLIENT_ID: c.clientId,
      AZURE_CLIENT_SECRET: c.clientSecret,
      AZURE_SUBSCRIPTION_ID: c.subscriptionId,
      AZURE_AUTHORITY_HOST: endpoint,
      AZURE_RESOURCE_MANAGER_ENDPOINT: endpoint,
      // No CA when the emulator was not started (the command reads no cloud): nothing to trust.
      ...(emulator.caPem ? { AZURE_CA_FILE: caFile(emulator.caPem) } : {}),
    };
  },
  // A flexible server's name is its FQDN's first label; with a real MariaDB behind it, the emulator proxies it
  // on a local port, where the readiness check connects (as through a tunnel).
  datastoreAddress: (emulator, endpoint) => {
    const name = endpoint.host.split(".")[0];
    return emulator
      .inventory({ cloud: "azure" })
      .find((i) => i.type === "Microsoft.DBforMySQL/flexibleServers" && i.name === name)?.connect;
  },
};

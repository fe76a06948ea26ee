import { readFileSync } from "node:fs";
import type { AuthorizationManagementClient } from "@azure/arm-authorization";
import type { ComputeManagementClient } from "@azure/arm-compute";
import type { DnsManagementClient } from "@azure/arm-dns";
import type { KeyVaultManagementClient } from "@azure/arm-keyvault";
import type { ManagedServiceIdentityClient } from "@azure/arm-msi";
import type { MySQLManagementFlexibleServerClient } from "@azure/arm-mysql-flexible";
import type { NetworkManagementClient } from "@azure/arm-network";
import type { PrivateDnsManagementClient } from "@azure/arm-privatedns";
import type { ResourceManagementClient } from "@azure/arm-resources";
import type { TokenCredential } from "@azure/identity";
import type { SecretClient } from "@azure/keyvault-secrets";
import { InvalidConfigError } from "@k3sinfra/core";
import { mapAzureError } from "./errors.js";
import { operationStatusPolicy } from "./operation-scope.js";
import { isKeyVaultHost } from "./services/vault.js";

/** What every client is built from: the subscription, where ARM and Entra ID are, and whom to trust. */
export interface AzureClientSettings {
  readonly subscriptionId: string;
  /** ARM's endpoint; default `https://management.azure.com`. */
  readonly endpoint?: string | undefined;
  /** Entra ID's authority host; default the public cloud's (`https://login.microsoftonline.com`). */
  readonly authorityHost?: string | undefined;
  /** PEM of a CA trusted besides the system's (a TLS-inspecting proxy, the emulator). */
  readonly ca?: string | undefined;
  /** A service principal from the provider context's environment; unset: `DefaultAzureCredential`. */
  readonly servicePrincipal?: { tenantId: string; clientId: string; clientSecret: string } | undefined;
}

/** Reads the settings from the provider's options and environment; explicit options beat the environment. */
export function clientSettings(
  options: {
    endpoint?: string | undefined;
    authorityHost?: string | undefined;
    caFile?: string | undefined;
    subscriptionId?: string | undefined;
  },
  env: Readonly<Record<string, string | undefined>>,
): AzureClientSettings {
  const caFile = options.caFile ?? (env.AZURE_CA_FILE || undefined);
  const { AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: clientId, AZURE_CLIENT_SECRET: clientSecret } = env;
  return {
    subscriptionId: options.subscriptionId ?? env.AZURE_SUBSCRIPTION_ID ?? "",
    endpoint: options.endpoint ?? (env.AZURE_RESOURCE_MANAGER_ENDPOINT || undefined),
    authorityHost: options.authorityHost ?? (env.AZURE_AUTHORITY_HOST || undefined),
    ca: caFile ? readCa(caFile) : undefined,
    servicePrincipal: tenantId && clientId && clientSecret ? { tenantId, clientId, clientSecret } : undefined,
  };
}

const readCa = (file: string): string => {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new InvalidConfigError([
      {
        path: "options.azure.caFile",
        message: `cannot read ${file} (${(err as Error).message}); give a readable PEM file`,
      },
    ]);
  }
};

/**
 * The system's root CAs with `extra` added (Node's `ca` option replaces the roots). node:tls is fetched only
 * here, when a CA file is configured: importing the provider loads no TLS.
 */
const withRoots = (extra: string): string[] => [
  ...(process.getBuiltinModule("node:tls") as typeof import("node:tls")).rootCertificates,
  extra,
];

/**
 * The native Azure clients, created on first use (the escape hatch for what the contracts do not cover).
 * They retry nothing themselves (`maxRetries: 0`): `azureCall` retries through core's `withRetry`.
 */
export class AzureClients {
  readonly settings: AzureClientSettings;
  #credential: Promise<TokenCredential> | undefined;
  #principal: Promise<string> | undefined;
  readonly #cache = new Map<string, Promise<unknown>>();

  constructor(settings: AzureClientSettings) {
    this.settings = settings;
  }

  /** Pipeline options every client shares: endpoint, trust, no SDK retries. */
  options(): Record<string, unknown> {
    const s = this.settings;
    return {
      ...(s.endpoint
        ? { endpoint: s.endpoint, baseUri: s.endpoint, credentialScopes: [`${s.endpoint}/.default`] }
        : {}),
      ...(s.ca ? { tlsOptions: { ca: withRoots(s.ca) } } : {}),
      retryOptions: { maxRetries: 0 },
      // Status requests of long-running operations are retried in the pipeline, where the pollers expect it.
      additionalPolicies: [{ policy: operationStatusPolicy, position: "perCall" }],
    };
  }

  /** The CAs a plain HTTPS request trusts (a blob's SAS URI): the system's plus the configured one; unset: Node's default. */
  trust(): string[] | undefined {
    return this.settings.ca ? withRoots(this.settings.ca) : undefined;
  }

  credential(): Promise<TokenCredential> {
    this.#credential ??= import("@azure/identity").then((m) => {
      const s = this.settings;
      const opts = {
        ...(s.authorityHost ? { authorityHost: s.authorityHost, disableInstanceDiscovery: true } : {}),
        ...(s.ca ? { tlsOptions: { ca: withRoots(s.ca) } } : {}),
      };
      const sp = s.servicePrincipal;
      return sp
        ? new m.ClientSecretCredential(sp.tenantId, sp.clientId, sp.clientSecret, opts)
        : new m.DefaultAzureCredential(opts);
    });
    return this.#credential;
  }

  #client<T>(key: string, make: (cred: TokenCredential) => Promise<T>): Promise<T> {
    let p = this.#cache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = this.credential().then(make);
      this.#cache.set(key, p);
    }
    return p;
  }

  resources(): Promise<ResourceManagementClient> {
    return this.#client("resources", async (c) => {
      const m = await import("@azure/arm-resources");
      return new m.ResourceManagementClient(c, this.settings.subscriptionId, this.options());
    });
  }

  network(): Promise<NetworkManagementClient> {
    return this.#client("network", async (c) => {
      const m = await import("@azure/arm-network");
      return new m.NetworkManagementClient(c, this.settings.subscriptionId, this.options());
    });
  }

  compute(): Promise<ComputeManagementClient> {
    return this.#client("compute", async (c) => {
      const m = await import("@azure/arm-compute");
      return new m.ComputeManagementClient(c, this.settings.subscriptionId, this.options());
    });
  }

  mysql(): Promise<MySQLManagementFlexibleServerClient> {
    return this.#client("mysql", async (c) => {
      const m = await import("@azure/arm-mysql-flexible");
      return new m.MySQLManagementFlexibleServerClient(c, this.settings.subscriptionId, this.options());
    });
  }

  dns(): Promise<DnsManagementClient> {
    return this.#client("dns", async (c) => {
      const m = await import("@azure/arm-dns");
      return new m.DnsManagementClient(c, this.settings.subscriptionId, this.options());
    });
  }

  privateDns(): Promise<PrivateDnsManagementClient> {
    return this.#client("privateDns", async (c) => {
      const m = await import("@azure/arm-privatedns");
      return new m.PrivateDnsManagementClient(c, this.settings.subscriptionId, this.options());
    });
  }

  msi(): Promise<ManagedServiceIdentityClient> {
    return this.#client("msi", async (c) => {
      const m = await import("@azure/arm-msi");
      return new m.ManagedServiceIdentityClient(c, this.settings.subscriptionId, this.options());
    });
  }

  authorization(): Promise<AuthorizationManagementClient> {
    return this.#client("authorization", async (c) => {
      const m = await import("@azure/arm-authorization");
      return new m.AuthorizationManagementClient(c, this.settings.subscriptionId, this.options());
    });
  }

  keyVault(): Promise<KeyVaultManagementClient> {
    return this.#client("keyVault", async (c) => {
      const m = await import("@azure/arm-keyvault");
      return new m.KeyVaultManagementClient(c, this.settings.subscriptionId, this.options());
    });
  }

  /**
   * The data-plane client of one vault (its `properties.vaultUri`, as ARM returned it). The SDK checks that the
   * authentication challenge's resource (`https://vault.azure.net`) is the vault host's domain; a vault URI
   * outside Key Vault's DNS suffixes, which Azure never returns, is the emulator's, which serves every vault
   * on its own host, so only there is the check skipped.
   */
  secrets(vaultUrl: string): Promise<SecretClient> {
    return this.#client(`secrets:${vaultUrl}`, async (c) => {
      const m = await import("@azure/keyvault-secrets");
      const { endpoint: _e, baseUri: _b, credentialScopes: _s, ...rest } = this.options();
      return new m.SecretClient(vaultUrl, c, {
        ...rest,
        ...(isKeyVaultHost(vaultUrl) ? {} : { disableChallengeResourceVerification: true }),
      });
    });
  }

  /**
   * The object id of the principal k3sinfra runs as (the `oid` claim of its ARM token): what role assignments
   * name when k3sinfra grants itself data access to a vault it made.
   */
  principalId(): Promise<string> {
    this.#principal ??= this.credential().then(async (c) => {
      const scope = `${this.settings.endpoint ?? "https://management.azure.com"}/.default`;
      const token = await c.getToken(scope).catch((error: unknown) => {
        throw mapAzureError(error, "Entra ID token (k3sinfra's principal)");
      });
      const payload = token?.token.split(".")[1];
      const oid = payload
        ? (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { oid?: string }).oid
        : undefined;
      if (!oid)
        throw new InvalidConfigError([
          { path: "credentials", message: "the Azure token names no principal (oid)" },
        ]);
      return oid;
    });
    return this.#principal;
  }
}

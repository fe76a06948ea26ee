import { AuthFailedError } from "@k3sinfra/core";
import { token } from "@k3sinfra/core/internal";
import type Cloudflare from "cloudflare";
import { TOKEN_HELP } from "./errors.js";
import type { CloudflareOptions } from "./options.js";

/** The real API root, used when neither `options.cloudflare.baseUrl` nor `CLOUDFLARE_BASE_URL` is set. */
export const DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4";

/** Where the client talks to and with which token (undefined: none configured). */
export interface CloudflareSettings {
  readonly apiToken: string | undefined;
  readonly baseUrl: string;
}

/** Settings from a provider context: explicit options beat the environment. */
export const cloudflareSettings = (
  options: CloudflareOptions,
  env: Readonly<Record<string, string | undefined>>,
): CloudflareSettings => ({
  apiToken: options.apiToken || env.CLOUDFLARE_API_TOKEN || undefined,
  baseUrl: options.baseUrl || env.CLOUDFLARE_BASE_URL || DEFAULT_BASE_URL,
});

/**
 * The native `cloudflare` client, created on first use (the escape hatch for what the contract does not
 * cover). It retries nothing itself (`maxRetries: 0`): calls retry through core's `withRetry`.
 */
export interface CloudflareClient {
  /** The client; throws `AuthFailedError` naming CLOUDFLARE_API_TOKEN when no token is configured. */
  get(): Promise<Cloudflare>;
  /** Values that must never appear in messages. */
  readonly secrets: readonly string[];
}

/** Injection token for the lazily-created Cloudflare client of one cluster container. */
export const CloudflareClient = token<CloudflareClient>("CloudflareClient");

/** Imports `cloudflare` and builds the client the first time it is asked for; importing this module loads no SDK. */
export class LazyCloudflareClient implements CloudflareClient {
  readonly #settings: CloudflareSettings;
  #client: Promise<Cloudflare> | undefined;

  constructor(settings: CloudflareSettings) {
    this.#settings = settings;
  }

  get secrets(): readonly string[] {
    return this.#settings.apiToken ? [this.#settings.apiToken] : [];
  }

  get(): Promise<Cloudflare> {
    const { apiToken, baseUrl } = this.#settings;
    if (!apiToken)
      return Promise.reject(
        new AuthFailedError(`No Cloudflare API token: CLOUDFLARE_API_TOKEN is not set. ${TOKEN_HELP}`),
      );
    this.#client ??= import("cloudflare").then(
      ({ default: Cloudflare }) =>
        new Cloudflare({
          apiToken,
          // Explicit nulls: otherwise the client reads CLOUDFLARE_API_KEY/CLOUDFLARE_EMAIL from process.env and
          // would send a second set of credentials.
          apiKey: null,
          apiEmail: null,
          userServiceKey: null,
          baseURL: baseUrl,
          maxRetries: 0,
          logLevel: "off",
        }),
    );
    return this.#client;
  }
}

import {
  AbortedError,
  AlreadyExistsError,
  AuthFailedError,
  K3sinfraError,
  NotFoundError,
  ProviderError,
  ThrottledError,
} from "@k3sinfra/core";

/** The shape of the `cloudflare` client's APIError, read without importing the SDK. */
interface CfApiError {
  name?: string;
  message?: string;
  status?: number;
  headers?: { get(name: string): string | null };
  errors?: { code?: number; message?: string; error_chain?: { code?: number; message?: string }[] }[];
}

/** What to tell a user whose token Cloudflare refused. */
export const TOKEN_HELP =
  "Set CLOUDFLARE_API_TOKEN (or options.cloudflare.apiToken) to an API token with Zone:Read and DNS:Edit permissions on the zone (Cloudflare dashboard > My Profile > API Tokens).";

// Codes meaning "these credentials may not do this": 9106 missing, 9109 invalid token, 10000 not allowed,
// 6003/6111 malformed Authorization header (cert-manager/cert-manager#4465, cloudflare/cloudflare-python#2678,
// favonia/cloudflare-ddns#897, Ultimate-Multisite/ultimate-multisite#73).
const AUTH_CODES = new Set([9106, 9109, 10000, 6003, 6111]);
// Same-name conflicts: https://developers.cloudflare.com/dns/manage-dns-records/troubleshooting/records-with-same-name/
const EXISTS_CODES = new Set([81053, 81054, 81057, 81058]);

/** Every Cloudflare error code in a failure, chained ones included. */
export function cloudflareCodes(error: unknown): number[] {
  const items = (error as CfApiError | null)?.errors ?? [];
  return items
    .flatMap((i) => [i.code, ...(i.error_chain ?? []).map((c) => c.code)])
    .filter((c) => typeof c === "number");
}

/** Seconds from a `retry-after` header (seconds or HTTP date). */
const retryAfter = (e: CfApiError): number | undefined => {
  const h = e.headers?.get("retry-after");
  if (!h) return undefined;
  const n = Number(h);
  if (Number.isFinite(n)) return Math.max(0, n);
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
};

/**
 * An answer without the `{ success, errors }` envelope (a proxy's page, an empty body): the client's message
 * is then `<status> <raw body>`, quoted here on one line and cut short.
 */
const withoutEnvelope = (e: CfApiError): string => {
  const raw = (e.message ?? "")
    .replace(new RegExp(`^${e.status}\\s*`), "")
    .replace(/\s+/g, " ")
    .trim();
  if (!raw || raw === "status code (no body)") return "without a body";
  return `without a Cloudflare error envelope: "${raw.length > 120 ? `${raw.slice(0, 120)}…` : raw}"`;
};

const scrub = (text: string, secrets: readonly string[]) =>
  secrets.reduce((t, s) => (s ? t.split(s).join("********") : t), text);

/**
 * Maps a `cloudflare` client failure to core's errors: refused credentials → AuthFailed (naming
 * CLOUDFLARE_API_TOKEN), 429 → Throttled with Retry-After, 81053/81054/81057/81058 → AlreadyExists,
 * 404/81044 → NotFound, 5xx and connection failures → retryable ProviderError.
 * @param what names the call, e.g. `Cloudflare list DNS records (rancher.example.com)`.
 * @param secrets values that must never appear in a message (the API token).
 */
export function mapCloudflareError(
  error: unknown,
  what: string,
  secrets: readonly string[] = [],
): K3sinfraError {
  if (K3sinfraError.is(error)) return error;
  const e = (error ?? {}) as CfApiError;
  if (e.name === "APIUserAbortError" || e.name === "AbortError") return new AbortedError(`${what}: aborted`);
  if (typeof e.status === "number") {
    const detail =
      (e.errors ?? [])
        .map((i) => {
          const chain = (i.error_chain ?? []).map((c) => `${c.code} ${c.message}`).join(", ");
          return `${i.code} ${i.message}${chain ? ` (${chain})` : ""}`;
        })
        .join("; ") || withoutEnvelope(e);
    // The status and the cf-ray id in every message: what Cloudflare support asks for.
    const ray = e.headers?.get("cf-ray") ?? undefined;
    const where = `HTTP ${e.status}${ray ? `, cf-ray ${ray}` : ""}`;
    const msg = (m: string) => scrub(m, secrets);
    const codes = cloudflareCodes(e);
    const opts = { cause: error, httpStatus: e.status, ...(ray ? { requestId: ray } : {}) };
    if (e.status === 401 || e.status === 403 || codes.some((c) => AUTH_CODES.has(c)))
      return new AuthFailedError(
        msg(`${what}: Cloudflare refused the API token (${detail}; ${where}). ${TOKEN_HELP}`),
        opts,
      );
    if (e.status === 429) {
      const after = retryAfter(e);
      return new ThrottledError(
        msg(
          `${what}: Cloudflare rate limit reached (${detail}; ${where})${after ? `; retry in ${after} s` : ""}`,
        ),
        { ...opts, ...(after !== undefined ? { retryAfterSeconds: after } : {}) },
      );
    }
    if (codes.some((c) => EXISTS_CODES.has(c)))
      return new AlreadyExistsError(msg(`${what}: ${detail} (${where})`), opts);
    if (e.status === 404 || codes.includes(81044))
      return new NotFoundError(msg(`${what}: ${detail} (${where})`), opts);
    return new ProviderError(msg(`${what}: Cloudflare answered ${detail} (${where})`), {
      ...opts,
      retryable: e.status >= 500,
    });
  }
  if (e.name === "APIConnectionError" || e.name === "APIConnectionTimeoutError")
    return new ProviderError(
      scrub(`${what}: cannot reach the Cloudflare API (${e.message ?? e.name})`, secrets),
      {
        cause: error,
        retryable: true,
      },
    );
  return new ProviderError(scrub(`${what}: ${e.message ?? String(error)}`, secrets), { cause: error });
}

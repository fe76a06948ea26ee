import {
  AbortedError,
  AlreadyExistsError,
  AuthFailedError,
  DependencyViolationError,
  K3sinfraError,
  NotFoundError,
  ProviderError,
  QuotaExceededError,
  ThrottledError,
} from "@k3sinfra/core";

/** The fields of a `RestError` (@azure/core-rest-pipeline) or an identity error this module reads. */
interface RestErrorShape {
  name?: string;
  code?: string;
  statusCode?: number;
  message?: string;
  request?: { requestId?: string };
  response?: { headers?: { get?(name: string): string | undefined }; bodyAsText?: string };
  details?: { error?: { code?: string; message?: string } };
}

/** The credential variables named in authentication errors. */
export const CREDENTIAL_HINT =
  "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service principal), or sign in with `az login` (DefaultAzureCredential)";

/** The ARM error code of an SDK error, or of the one wrapped in a k3sinfra error's `cause`. */
export const azureCode = (error: unknown): string | undefined => {
  const e = (K3sinfraError.is(error) ? error.cause : error) as RestErrorShape | undefined;
  if (!e || typeof e !== "object") return undefined;
  return e.details?.error?.code ?? e.code;
};

/** True when the error (or its cause) carries one of these ARM codes. */
export const hasAzureCode = (error: unknown, ...codes: string[]): boolean => {
  const c = azureCode(error);
  return c !== undefined && codes.some((x) => x.toLowerCase() === c.toLowerCase());
};

const NOT_FOUND =
  /^(ResourceNotFound|ResourceGroupNotFound|NotFound|ParentResourceNotFound|SecretNotFound|VaultNotFound|.*NotFound)$/i;
// Network's "wait for the other operation" signals are throttling in all but name.
const THROTTLE = new Set([
  "TooManyRequests",
  "RetryableErrorDueToAnotherOperation",
  "Throttled",
  "SubscriptionRequestsThrottled",
]);
const DEPENDENCY = /InUse|CannotBeDeleted|AnotherOperationInProgress|Conflict$/i;
const QUOTA = /QuotaExceeded|OperationNotAllowed|SkuNotAvailable|ZonalAllocationFailed|AllocationFailed/i;
const NETWORK = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "REQUEST_SEND_ERROR",
]);

/** Replaces every secret's occurrence with `********`. */
export const redact = (text: string, secrets: readonly string[] = []): string =>
  secrets.reduce((t, s) => (s.length >= 4 ? t.split(s).join("********") : t), text);

/**
 * Maps an Azure SDK error to core's error classes, keeping the original as `cause`.
 * @param what the failed call, e.g. `Network VirtualNetworks_CreateOrUpdate (k3s-prod-vnet)`; never a secret.
 */
export function mapAzureError(error: unknown, what: string, secrets: readonly string[] = []): K3sinfraError {
  if (K3sinfraError.is(error)) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as RestErrorShape;
  const status = e.statusCode;
  const code = e.details?.error?.code ?? e.code ?? e.name ?? "UnknownError";
  const detail = redact(e.details?.error?.message ?? e.message ?? String(error), secrets);
  const requestId = e.response?.headers?.get?.("x-ms-request-id") ?? e.request?.requestId;
  const where = [
    status === undefined ? undefined : `HTTP ${status}`,
    requestId ? `request id ${requestId}` : undefined,
  ].filter(Boolean);
  const message = `${what} failed: ${code}: ${detail}${where.length ? ` (${where.join(", ")})` : ""}`;
  const retryAfter = Number(e.response?.headers?.get?.("retry-after"));
  const options = {
    cause: error,
    ...(status === undefined ? {} : { httpStatus: status }),
    ...(requestId ? { requestId } : {}),
  };
  if (e.name === "AbortError") return new AbortedError(`${what} was aborted.`, options);
  if (
    e.name === "AuthenticationRequiredError" ||
    e.name === "CredentialUnavailableError" ||
    status === 401 ||
    e.name === "AuthenticationError"
  )
    return new AuthFailedError(
      `${what} failed: Azure refused the credentials: ${detail}. ${CREDENTIAL_HINT}.`,
      options,
    );
  if (status === 403)
    return new AuthFailedError(
      `${what} failed: ${code}: the identity may not do this (${detail}); grant it Contributor and User Access Administrator on the subscription or resource group.`,
      options,
    );
  if (THROTTLE.has(code) || status === 429)
    return new ThrottledError(message, {
      ...options,
      retryable: true,
      ...(Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {}),
    });
  if (status === 404 || NOT_FOUND.test(code)) return new NotFoundError(message, options);
  if (DEPENDENCY.test(code)) return new DependencyViolationError(message, { ...options, retryable: true });
  if (QUOTA.test(code)) return new QuotaExceededError(message, options);
  if (status === 409 && /AlreadyExists|Conflict/i.test(code)) return new AlreadyExistsError(message, options);
  if (NETWORK.has(code) || (status !== undefined && status >= 500) || status === 408)
    return new ProviderError(message, { ...options, retryable: true });
  return new ProviderError(message, options);
}

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

/** The fields of a google-gax (REST fallback) or gaxios error this module reads. */
interface GoogleErrorShape {
  name?: string;
  code?: number | string;
  httpStatusCode?: number;
  message?: string;
  reason?: string;
  status?: number;
  response?: { status?: number };
  errors?: { reason?: string; message?: string }[];
}

/** gRPC codes the REST fallback reports, as HTTP statuses (https://cloud.google.com/apis/design/errors#handling_errors). */
const GRPC_TO_HTTP: Readonly<Record<number, number>> = {
  3: 400,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 400,
  10: 409,
  13: 500,
  14: 503,
  16: 401,
};

/** The credentials a Google call uses, named in authentication errors. */
export const CREDENTIAL_HINT =
  "set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or run `gcloud auth application-default login` (Application Default Credentials)";

const shape = (error: unknown): GoogleErrorShape =>
  typeof error === "object" && error !== null ? (error as GoogleErrorShape) : {};

/** The HTTP status of a Google client error (gax gives gRPC codes on the REST path, gaxios HTTP ones). */
export const httpStatusOf = (error: unknown): number | undefined => {
  const e = shape(K3sinfraError.is(error) ? error.cause : error);
  if (typeof e.httpStatusCode === "number") return e.httpStatusCode;
  if (typeof e.response?.status === "number") return e.response.status;
  if (typeof e.code === "number") return e.code >= 100 ? e.code : GRPC_TO_HTTP[e.code];
  return undefined;
};

/** The API's reason (`alreadyExists`, `resourceInUseByAnotherResource`…), from the error or its message. */
export const reasonOf = (error: unknown): string | undefined => {
  const e = shape(K3sinfraError.is(error) ? error.cause : error);
  const reason = e.reason ?? e.errors?.[0]?.reason;
  if (reason) return reason;
  const m = /"reason":\s*"([A-Za-z]+)"/.exec(e.message ?? "");
  if (m) return m[1];
  if (/already being used by/i.test(e.message ?? "")) return "resourceInUseByAnotherResource";
  // Cloud SQL's 409 for a second operation on one instance; the REST fallback may drop the reason field
  // ("Operation failed because another operation was already in progress", hashicorp/terraform-provider-google#4370).
  if (/another operation was already in progress/i.test(e.message ?? "")) return "operationInProgress";
  if (/already exists/i.test(e.message ?? "")) return "alreadyExists";
  // Compute's 400 for a resource not in a state to answer (the serial port of an instance that does not run).
  if (/^The resource '[^']+' is not ready/.test(e.message ?? "")) return "resourceNotReady";
  return undefined;
};

/** Replaces every secret's occurrence with `********`. */
export const redact = (text: string, secrets: readonly string[] = []): string =>
  secrets.reduce((t, s) => (s.length >= 4 ? t.split(s).join("********") : t), text);

/**
 * Maps a Google client error to core's error classes, keeping the original as `cause`.
 * @param what the failed call, e.g. `Compute instances.insert (k3s-prod-n0)`; never a secret.
 */
export function mapGoogleError(error: unknown, what: string, secrets: readonly string[] = []): K3sinfraError {
  if (K3sinfraError.is(error)) return error;
  const e = shape(error);
  const status = httpStatusOf(error);
  const reason = reasonOf(error);
  const detail = redact((e.message ?? String(error)).replace(/\s+/g, " ").slice(0, 400), secrets);
  const message = `${what} failed: ${detail}${status === undefined ? "" : ` (HTTP ${status})`}`;
  const options = { cause: error, ...(status === undefined ? {} : { httpStatus: status }) };
  if (e.name === "AbortError") return new AbortedError(`${what} was aborted.`, options);
  if (status === 401)
    return new AuthFailedError(
      `${message}. Google did not accept the credentials: ${CREDENTIAL_HINT}.`,
      options,
    );
  if (status === 403 && !/quota|rateLimit/i.test(reason ?? ""))
    return new AuthFailedError(
      `${message}. The credentials lack an IAM permission for this call; grant it, or use other credentials (${CREDENTIAL_HINT}).`,
      options,
    );
  if (status === 429 || reason === "rateLimitExceeded" || reason === "userRateLimitExceeded")
    return new ThrottledError(message, options);
  if (
    reason === "resourceInUseByAnotherResource" ||
    reason === "resourceNotReady" ||
    reason === "operationInProgress"
  )
    return new DependencyViolationError(message, options);
  if (status === 404) return new NotFoundError(message, options);
  if (status === 409 || reason === "alreadyExists") return new AlreadyExistsError(message, options);
  if (reason === "quotaExceeded" || reason === "QUOTA_EXCEEDED")
    return new QuotaExceededError(message, options);
  const transient =
    (status !== undefined && [500, 502, 503, 504].includes(status)) ||
    /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|socket hang up/i.test(detail);
  return new ProviderError(message, { ...options, retryable: transient });
}

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

/** The fields of an SDK `ServiceException` (or a credentials error) this module reads. */
interface SdkErrorShape {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $response?: { statusCode?: number; headers?: Record<string, string | undefined> };
  /** The raw body the SDK could not parse (smithy's deserialization errors). */
  $responseBodyText?: string;
}

const sdkError = (error: unknown): SdkErrorShape | undefined =>
  typeof error === "object" && error !== null ? (error as SdkErrorShape) : undefined;

/**
 * The AWS error code of an SDK error, or of the SDK error wrapped in a k3sinfra error's `cause`. Query
 * services name modeled errors after their shape (`DBInstanceAlreadyExistsFault`) while `Code` keeps the
 * wire code (`DBInstanceAlreadyExists`), so both are returned for matching.
 */
export const awsCodes = (error: unknown): string[] => {
  const e = K3sinfraError.is(error) ? sdkError(error.cause) : sdkError(error);
  if (!e) return [];
  return [e.name, e.Code, e.code].filter((c): c is string => typeof c === "string" && c !== "Error");
};

/** True when the error (or its cause) carries one of these AWS codes. */
export const hasAwsCode = (error: unknown, ...codes: string[]): boolean =>
  awsCodes(error).some((c) => codes.includes(c));

/** The credential variables named in authentication errors. */
export const CREDENTIAL_HINT =
  "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), or AWS_PROFILE";

const AUTH = new Set([
  "AuthFailure",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "CredentialsProviderError",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidAccessKeyId",
  "MissingAuthenticationToken",
  "IncompleteSignature",
]);
const DENIED = new Set(["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"]);
// The SDK's own throttling list (@smithy/core service-error-classification) plus Route 53's "wait for the
// previous change" signal.
const THROTTLE = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "PriorRequestNotComplete",
  "SlowDown",
  "EC2ThrottledException",
  "BandwidthLimitExceeded",
  "LimitExceededException",
]);
const DEPENDENCY = new Set([
  "DependencyViolation",
  "ResourceInUse",
  "ResourceInUseException",
  "InvalidDBSubnetGroupStateFault",
  "InvalidDBSubnetGroupState",
]);
const NETWORK = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);

const isNotFound = (code: string) =>
  /NotFound(Fault|Exception)?$/.test(code) || /^NoSuch/.test(code) || code === "InvalidGroup.NotFound";
const isDuplicate = (code: string) =>
  /AlreadyExists(Fault|Exception)?$/.test(code) ||
  /\.Duplicate$/.test(code) ||
  /^Duplicate.*(Exception)?$/.test(code) ||
  code === "IdempotentParameterMismatch";
const isQuota = (code: string) =>
  /QuotaExceeded(Fault|Exception)?$/.test(code) ||
  /LimitExceeded$/.test(code) ||
  /^TooMany(LoadBalancers|TargetGroups|Listeners|Targets|Rules|Certificates|Actions)/.test(code) ||
  code === "LimitsExceeded" ||
  code === "InsufficientInstanceCapacity";

const retryAfter = (e: SdkErrorShape): number | undefined => {
  const headers = e.$response?.headers ?? {};
  // `x-amz-retry-after` is in milliseconds; `retry-after` is seconds or an HTTP date.
  const amz = Number(headers["x-amz-retry-after"]);
  if (Number.isFinite(amz) && amz > 0) return amz / 1000;
  const raw = headers["retry-after"] ?? headers["Retry-After"];
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
};

/** Replaces every secret's occurrence with `********`, so an echoing API never leaks one into a message. */
export const redact = (text: string, secrets: readonly string[] = []): string =>
  secrets.reduce((t, s) => (s.length >= 4 ? t.split(s).join("********") : t), text);

/**
 * Maps an SDK error to core's error classes, keeping the original as `cause`.
 * @param what the failed call, e.g. `EC2 RunInstances for k3s-prod-n1`; never contains a secret.
 * @param secrets values to scrub from the message (passwords, user data).
 */
export function mapAwsError(error: unknown, what: string, secrets: readonly string[] = []): K3sinfraError {
  if (K3sinfraError.is(error)) return error;
  const e = sdkError(error) ?? {};
  const codes = awsCodes(error);
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const requestId = requestIdOf(e);
  const unparsed = status !== undefined && isUnparsedAnswer(e, codes);
  const code = codes[0] ?? e.name ?? "UnknownError";
  const detail = redact(e.message ?? String(error), secrets);
  if (detail !== e.message && e.message !== undefined) {
    // The cause travels with the mapped error; scrub it too.
    try {
      (error as { message: string }).message = detail;
    } catch {
      // A frozen error keeps its message; ours below is clean either way.
    }
  }
  // Status and request id in every message: the first thing AWS support asks for.
  const where = [
    status === undefined ? undefined : `HTTP ${status}`,
    requestId === undefined ? undefined : `request id ${requestId}`,
  ].filter(Boolean);
  const tail = where.length ? ` (${where.join(", ")})` : "";
  const message = unparsed
    ? `${what} failed: AWS answered HTTP ${status} without an AWS error document${bodyExcerpt(e, secrets)}${requestId === undefined ? "" : ` (request id ${requestId})`}`
    : `${what} failed: ${code}: ${detail}${tail}`;
  const options = {
    cause: error,
    ...(status === undefined ? {} : { httpStatus: status }),
    ...(requestId === undefined ? {} : { requestId }),
  };
  if (e.name === "AbortError" || code === "AbortError")
    return new AbortedError(`${what} was aborted.`, options);
  if (codes.some((c) => AUTH.has(c)) || status === 401)
    return new AuthFailedError(
      `${message}. AWS did not accept the credentials: ${CREDENTIAL_HINT}.`,
      options,
    );
  if (codes.some((c) => DENIED.has(c)))
    return new AuthFailedError(
      `${message}. The credentials lack an IAM permission for this call; grant it, or use other credentials (${CREDENTIAL_HINT}).`,
      options,
    );
  if (codes.some((c) => THROTTLE.has(c)) || status === 429) {
    const seconds = retryAfter(e);
    return new ThrottledError(
      message,
      seconds === undefined ? options : { ...options, retryAfterSeconds: seconds },
    );
  }
  if (codes.some((c) => DEPENDENCY.has(c))) return new DependencyViolationError(message, options);
  if (codes.some(isNotFound) || status === 404) return new NotFoundError(message, options);
  if (codes.some(isDuplicate)) return new AlreadyExistsError(message, options);
  if (codes.some(isQuota)) return new QuotaExceededError(message, options);
  const transient =
    (status !== undefined && [500, 502, 503, 504].includes(status)) ||
    e.$retryable !== undefined ||
    codes.some((c) => NETWORK.has(c));
  return new ProviderError(message, { ...options, retryable: transient });
}

/** The request id: `$metadata` (from `x-amzn-RequestId`), else the raw answer's headers. */
const requestIdOf = (e: SdkErrorShape): string | undefined => {
  if (e.$metadata?.requestId) return e.$metadata.requestId;
  const headers = Object.fromEntries(
    Object.entries(e.$response?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  return headers["x-amzn-requestid"] ?? headers["x-amz-request-id"] ?? undefined;
};

/**
 * An answer the SDK could not read as an error document (a proxy's text or HTML page, an empty body): smithy
 * throws a plain `Error` whose message speaks of XML parsing, with the raw answer hidden in `$response`
 * (aws/aws-sdk-js-v3#4592, smithy-lang/smithy-typescript#555), or an error named `Unknown` without a code.
 */
const isUnparsedAnswer = (e: SdkErrorShape, codes: readonly string[]): boolean =>
  (e.$response !== undefined && /Deserialization error/i.test(e.message ?? "")) ||
  codes.length === 0 ||
  codes.every((c) => c === "Unknown" || c === "UnknownError");

/** The start of an unreadable body, quoted on one line (secrets scrubbed). */
const bodyExcerpt = (e: SdkErrorShape, secrets: readonly string[]): string => {
  const text = (e.$responseBodyText ?? "").replace(/\s+/g, " ").trim();
  if (!text) return "";
  const cut = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  return `: "${redact(cut, secrets)}"`;
};

/**
 * Google API errors as the JSON APIs send them: `{"error":{"code","message","errors":[{message,domain,
 * reason}],"status"}}` (https://cloud.google.com/apis/design/errors#http_mapping).
 */
import type { HttpResponse } from "../cloud.js";
import type { FaultKind } from "../types.js";

const STATUS: Readonly<Record<number, string>> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ALREADY_EXISTS",
  412: "FAILED_PRECONDITION",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

export class GcpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export const gcpErrors = {
  notFound: (what: string) => new GcpError(404, "notFound", `The resource '${what}' was not found`),
  alreadyExists: (what: string) =>
    new GcpError(409, "alreadyExists", `The resource '${what}' already exists`),
  invalid: (message: string) => new GcpError(400, "invalid", message),
  inUse: (what: string, by: string) =>
    new GcpError(
      400,
      "resourceInUseByAnotherResource",
      `The resource '${what}' is already being used by '${by}'`,
    ),
  unauthenticated: () =>
    new GcpError(
      401,
      "authError",
      "Request is missing required authentication credential. Expected OAuth 2 access token.",
    ),
};

export const jsonHeaders = { "content-type": "application/json; charset=UTF-8" } as const;

export const json = (status: number, body: unknown): HttpResponse => ({
  status,
  headers: { ...jsonHeaders },
  body: JSON.stringify(body),
});

export const errorResponse = (e: GcpError): HttpResponse =>
  json(e.status, {
    error: {
      code: e.status,
      message: e.message,
      errors: [{ message: e.message, domain: "global", reason: e.reason }],
      status: STATUS[e.status] ?? "UNKNOWN",
    },
  });

/**
 * Injected faults: 429 `rateLimitExceeded` as quota errors are reported
 * (https://cloud.google.com/compute/api-quota#limits), 5xx `backendError`.
 */
export const faultResponse = (kind: Exclude<FaultKind, "slow">): HttpResponse =>
  kind === "throttle"
    ? errorResponse(new GcpError(429, "rateLimitExceeded", "Rate Limit Exceeded"))
    : kind === "unavailable503"
      ? errorResponse(new GcpError(503, "backendError", "The service is currently unavailable."))
      : errorResponse(new GcpError(500, "backendError", "Internal error. Please try again."));

/** Runs a handler, turning a thrown `GcpError` into its response. */
export const answer = async (fn: () => HttpResponse | Promise<HttpResponse>): Promise<HttpResponse> => {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof GcpError) return errorResponse(e);
    throw e;
  }
};

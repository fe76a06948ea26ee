/**
 * One error base for the whole SDK, with a stable `code`, a `retryable` flag and marker-based identity
 * (`K3sinfraError.is(e)` works across duplicated package copies, where `instanceof` does not).
 */
const marker = Symbol.for("k3sinfra.error");

export type ErrorCode =
  | "NotFound"
  | "AlreadyExists"
  | "DependencyViolation"
  | "DeletionProtected"
  | "Throttled"
  | "QuotaExceeded"
  | "AuthFailed"
  | "InvalidConfig"
  | "Timeout"
  | "PartialFailure"
  | "LockHeld"
  | "PlanRefused"
  | "Aborted"
  | "StateConflict"
  | "StateCorrupt"
  | "StateKey"
  | "TlsRequired"
  | "ProviderError";

export interface K3sinfraErrorOptions {
  /** The underlying error, kept for debugging; never printed with secrets. */
  cause?: unknown;
  /** Whether repeating the same call may succeed. */
  retryable?: boolean;
  /** Seconds the service asked us to wait before retrying (Retry-After). */
  retryAfterSeconds?: number;
  /** The HTTP status the service answered, when it answered. */
  httpStatus?: number;
  /** The service's id for the failed request (a request id or ray id header), for a support case. */
  requestId?: string;
}

export class K3sinfraError extends Error {
  readonly [marker] = true;
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;
  /**
   * Set by `withRetry` when its budget (attempts or time) ran out on this error: how many attempts the call
   * made. Such an error is final: no outer layer retries it again, so retries never multiply.
   */
  attempts: number | undefined;

  constructor(code: ErrorCode, message: string, options: K3sinfraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = `${code}Error`;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.httpStatus = options.httpStatus;
    this.requestId = options.requestId;
  }

  /** True for any k3sinfra error, optionally of one code. */
  static is(error: unknown, code?: ErrorCode): error is K3sinfraError {
    return (
      typeof error === "object" &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true &&
      (code === undefined || (error as K3sinfraError).code === code)
    );
  }
}

export class NotFoundError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("NotFound", message, options);
  }
}
export class AlreadyExistsError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("AlreadyExists", message, options);
  }
}
export class DependencyViolationError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("DependencyViolation", message, { retryable: true, ...options });
  }
}
/**
 * The cloud refused to delete an object because its deletion protection is on. Not retryable: only turning
 * the protection off (`datastore.deletionProtection: false`, or `destroy --allow-protected`) lets it go.
 */
export class DeletionProtectedError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("DeletionProtected", message, { ...options, retryable: false });
  }
}
export class ThrottledError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("Throttled", message, { retryable: true, ...options });
  }
}
export class QuotaExceededError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("QuotaExceeded", message, options);
  }
}
export class AuthFailedError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("AuthFailed", message, options);
  }
}
export class TimeoutError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("Timeout", message, options);
  }
}
export class AbortedError extends K3sinfraError {
  constructor(message = "The operation was aborted.", options?: K3sinfraErrorOptions) {
    super("Aborted", message, options);
  }
}
export class LockHeldError extends K3sinfraError {
  /** The lock as found, when it could be read: who holds it, and the id `force-unlock` takes. */
  readonly lock:
    | { readonly id: string; readonly owner: string; readonly operation: string; readonly acquiredAt: string }
    | undefined;
  constructor(
    message: string,
    options?: K3sinfraErrorOptions & {
      lock?: { id: string; owner: string; operation: string; acquiredAt: string };
    },
  ) {
    super("LockHeld", message, options);
    this.lock = options?.lock;
  }
}
export class PlanRefusedError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("PlanRefused", message, options);
  }
}
/** A provider failure that maps to no other code. */
export class ProviderError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("ProviderError", message, options);
  }
}

/** One problem in a config: where it is and what to do about it. */
export interface ConfigIssue {
  /** Dotted path into the config, e.g. `loadBalancer.certificate`. */
  path: string;
  /** What is wrong and what to do. */
  message: string;
}

export class InvalidConfigError extends K3sinfraError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], options?: K3sinfraErrorOptions) {
    const lines = issues.map((i) => `  - ${i.path || "(root)"}: ${i.message}`);
    super("InvalidConfig", `Invalid config:\n${lines.join("\n")}`, options);
    this.issues = issues;
  }
}

/** Some resources failed while others succeeded; state records the ones that succeeded. */
export class PartialFailureError extends K3sinfraError {
  readonly failures: readonly { resource: string; error: unknown }[];
  constructor(failures: readonly { resource: string; error: unknown }[]) {
    const lines = failures.map(
      (f) => `  - ${f.resource}: ${f.error instanceof Error ? f.error.message : String(f.error)}`,
    );
    super(
      "PartialFailure",
      `${failures.length} resource(s) failed; the others were recorded in state. Fix the cause and run the same command again to resume:\n${lines.join("\n")}`,
    );
    this.failures = failures;
  }
}

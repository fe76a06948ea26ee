import { K3sinfraError, type K3sinfraErrorOptions } from "../errors.js";

// Core's ErrorCode union has no state-specific codes, so these reuse the nearest existing code; the class
// names (and `name`) say precisely what happened.

/** The state changed under us (another writer, or a different lineage): the write was refused. */
export class StateConflictError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("LockHeld", message, options);
    this.name = "StateConflictError";
  }
}

/** The state file cannot be parsed or has an unsupported shape or version. */
export class StateCorruptError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("ProviderError", message, options);
    this.name = "StateCorruptError";
  }
}

/** The secrets in the state cannot be decrypted: wrong key, missing key, or tampered bytes. */
export class StateKeyError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("AuthFailed", message, options);
    this.name = "StateKeyError";
  }
}

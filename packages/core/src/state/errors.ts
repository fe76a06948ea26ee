import { K3sinfraError, type K3sinfraErrorOptions } from "../errors.js";

/** The state changed under us (another writer, or a different lineage): the write was refused. */
export class StateConflictError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("StateConflict", message, options);
  }
}

/** The state file cannot be parsed or has an unsupported shape or version. */
export class StateCorruptError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("StateCorrupt", message, options);
  }
}

/** The secrets in the state cannot be decrypted: wrong key, missing key, or tampered bytes. */
export class StateKeyError extends K3sinfraError {
  constructor(message: string, options?: K3sinfraErrorOptions) {
    super("StateKey", message, options);
  }
}

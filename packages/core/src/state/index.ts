// State stores and helpers of @k3sinfra/core; types.ts holds the contracts they implement.
export type {
  KeyWrapper,
  StateBackend,
  StateBackendContext,
  StateBackendFactory,
  StoredObject,
} from "./backend.js";
export type { BackendStateStoreOptions } from "./backend-store.js";
export { BackendStateStore } from "./backend-store.js";
export type { SealedSecrets } from "./cipher.js";
export { SecretsCipher } from "./cipher.js";
export type { StateDocument } from "./codec.js";
export { StateConflictError, StateCorruptError, StateKeyError } from "./errors.js";
export { FileStateBackend } from "./file-backend.js";
export type { FileStateStoreOptions } from "./file-store.js";
export { FileStateStore } from "./file-store.js";
export type { StateKeySource } from "./keys.js";
export {
  defaultKeyFilePath,
  defaultKeySource,
  keyFileKeySource,
  keySourceFor,
  passphraseKeySource,
  STATE_PASSPHRASE_ENV,
  wrappedKeySource,
} from "./keys.js";
export type { LeaseOptions, LockBackend } from "./lease.js";
export {
  DEFAULT_LEASE_MS,
  DEFAULT_RENEW_MS,
  defaultOwner,
  LeasedLock,
  LeaseManager,
  lockHeldMessage,
} from "./lease.js";
export { MemoryStateBackend } from "./memory-backend.js";
export type { MemoryStateStoreOptions } from "./memory-store.js";
export { MemoryStateStore } from "./memory-store.js";
export type { OpenedStateStore, OpenStateStoreOptions } from "./open.js";
export { localStatePath, openStateStore } from "./open.js";
export type { ProcessIdentity } from "./owner.js";
export { currentProcess, ownerGone, procStat } from "./owner.js";
export type { StatePatch } from "./state.js";
export { assertWritable, emptyState, nextState } from "./state.js";
export type { MigrateResult, PulledState } from "./transfer.js";
export { listStates, migrateState, pullState } from "./transfer.js";

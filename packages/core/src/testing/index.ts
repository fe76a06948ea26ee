// Test kit for provider authors and for k3sinfra's own tests: an in-memory provider and the conformance suite.
import "reflect-metadata";

export { makeContext } from "./context.js";
export { crashableStore } from "./crashable-store.js";
export {
  type MemoryCall,
  MemoryCloud,
  type MemoryCloudOptions,
  type MemoryObject,
  SimulatedCrash,
} from "./memory-cloud.js";
export {
  createMemoryProvider,
  type MemoryOptions,
  memoryCapabilities,
  memoryProvider,
  memoryProvider as default,
} from "./memory-provider.js";
export { MemorySecrets, memorySecretReader } from "./memory-secrets.js";
export {
  type BackDoorRecord,
  type CollectOptions,
  type ContractBackDoors,
  type ContractCase,
  type ContractEnv,
  type ContractHarness,
  type ContractResult,
  type ContractServices,
  type ContractToggles,
  type ProviderContractOptions,
  providerContractCases,
  type ReadyStatus,
  runProviderContract,
} from "./provider-contract.js";

export type {
  CloudContext,
  CloudFactory,
  CloudHandler,
  CloudRequest,
  HttpResponse,
  RoutedCall,
} from "./cloud.js";
export { registerCloud, registeredClouds } from "./cloud.js";
export { AWS_TEST_CREDENTIALS, startEmulator } from "./emulator.js";
export type {
  CloudName,
  Emulator,
  EmulatorOptions,
  FaultKind,
  FaultSpec,
  InventoryFilter,
  InventoryItem,
  RequestLogEntry,
} from "./types.js";

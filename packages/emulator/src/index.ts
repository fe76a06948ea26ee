export { AWS_DURATIONS } from "./aws/kernel/durations.js";
export { AZURE_TEST_CREDENTIALS } from "./azure/credentials.js";
export type {
  CloudContext,
  CloudFactory,
  CloudHandler,
  CloudLoader,
  CloudRequest,
  HttpResponse,
  RoutedCall,
} from "./cloud.js";
export { registerCloud, registerCloudLoader, registeredClouds } from "./cloud.js";
export { CLOUDFLARE_TEST_TOKEN } from "./cloudflare/credentials.js";
export { AWS_TEST_CREDENTIALS, startEmulator } from "./emulator.js";
export type {
  AcmCertificateFixture,
  AwsFixtures,
  AzureFixtures,
  BootFaultTarget,
  BootReport,
  BootStage,
  CertificateStatus,
  CloudflareFixtures,
  CloudflarePlan,
  CloudName,
  Emulator,
  EmulatorOptions,
  FaultKind,
  FaultSpec,
  GcpFixtures,
  InventoryFilter,
  InventoryItem,
  RequestLogEntry,
} from "./types.js";
export { VirtualClock } from "./virtual-clock.js";

export { AWS_DURATIONS } from "./aws/kernel/durations.js";
export { AZURE_TEST_CREDENTIALS } from "./azure/credentials.js";
export type {
  CloudContext,
  CloudFactory,
  CloudHandler,
  CloudRequest,
  HttpResponse,
  RoutedCall,
} from "./cloud.js";
export { registerCloud, registeredClouds } from "./cloud.js";
export { CLOUDFLARE_TEST_TOKEN } from "./cloudflare/index.js";
export { AWS_TEST_CREDENTIALS, startEmulator } from "./emulator.js";
export { VirtualClock } from "./virtual-clock.js";
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

import { awsCloud } from "./aws.js";
import { azureCloud } from "./azure.js";
import { cloudflareCloud } from "./cloudflare.js";
import { gcpCloud } from "./gcp.js";
import type { EmulatedCloudModule } from "./types.js";

export type { EmulatedCloudModule, EmulatorAddress, FixtureInput, Fixtures } from "./types.js";

/** The clouds `--emulate` can stand in for, one module each. */
export const EMULATED_CLOUDS: readonly EmulatedCloudModule[] = [
  awsCloud,
  gcpCloud,
  azureCloud,
  cloudflareCloud,
];

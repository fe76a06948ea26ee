import {
  type ClusterConfigInput,
  clusterTags,
  MemoryStateStore,
  type ProgressEvent,
  ProviderRegistry,
} from "@k3sinfra/core";
import type { Emulator, InventoryItem } from "@k3sinfra/emulator";
import { aws } from "../src/index.js";
import { REGION, ZONES } from "./helpers.js";

/** A cluster config as a user writes it, for the library API (`up`, `destroy`) with the AWS provider. */
export const libraryConfig = (name: string): ClusterConfigInput => ({
  name,
  provider: "aws",
  region: REGION,
  zones: [...ZONES],
  dns: { zone: "example.com" },
  rancher: { hostname: `rancher.${name}.example.com` },
  // The emulated RDS endpoint has no database behind it: skip the readiness check.
  datastore: { deletionProtection: false, check: "off" },
});

/** Options for `up`/`destroy` against an emulator (or a proxy in front of it), with a state per cluster. */
export const libraryOptions = (endpoint: string, emulator: Emulator, state = new MemoryStateStore()) => {
  const events: ProgressEvent[] = [];
  return {
    events,
    state,
    options: {
      registry: new ProviderRegistry().register(aws),
      state,
      env: {
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: emulator.credentials.aws.accessKeyId,
        AWS_SECRET_ACCESS_KEY: emulator.credentials.aws.secretAccessKey,
      },
      poll: { minDelayMs: 5, maxDelayMs: 50 },
      onEvent: (e: ProgressEvent) => events.push(e),
    },
  };
};

/**
 * Everything of one cluster still in the emulated account: objects carrying its ownership tags, and the
 * Route 53 records (which carry no tags) at its Rancher hostname or its heritage TXT name.
 */
export const leftovers = (emulator: Emulator, name: string): InventoryItem[] => [
  ...emulator.inventory({ tags: clusterTags(name) }),
  ...emulator
    .inventory()
    .filter(
      (i) => i.type === "resource-record-set" && (i.name ?? "").includes(`rancher.${name}.example.com`),
    ),
];

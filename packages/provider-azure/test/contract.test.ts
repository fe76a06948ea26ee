import { type ContractBackDoors, runProviderContract } from "@k3sinfra/core/testing";
import type { Emulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, it } from "vitest";
import { azure } from "../src/index.js";
import { backDoors } from "./contract-doors.js";
import { azureEnv, REGION, startAzureEmulator, ZONES } from "./helpers.js";

// One emulator for the whole suite: the adoption cases build a second harness (a "fresh process") that
// must see what the first one made.
let emulator: Promise<Emulator> | undefined;
const shared = () => {
  emulator ??= startAzureEmulator({ seed: 13 });
  return emulator;
};

let doors: ContractBackDoors | undefined;
const door = async () => {
  doors ??= backDoors(await shared());
  return doors;
};

runProviderContract({
  describe,
  it,
  beforeAll,
  afterAll,
  name: "azure (emulator)",
  provider: azure,
  // The services follow from the provider's capabilities.
  env: async () => azureEnv(await shared()),
  region: REGION,
  zones: [...ZONES],
  dns: { zone: "example.com" },
  // ARM's words: a load balancer is ready when provisioned.
  readyStatus: { loadBalancer: ["succeeded"], datastore: ["ready"] },
  poll: { minDelayMs: 5, maxDelayMs: 50 },
  owned: async (tags) => (await door()).owned(tags),
  status: async (id) => (await door()).status?.(id),
  record: async (state) => (await door()).record?.(state),
  targets: async (lb) => (await door()).targets?.(lb) ?? [],
  published: async (node) => (await door()).published?.(node) ?? {},
  drift: {
    stopNode: async (node) => (await door()).drift?.stopNode?.(node),
    addIngressRule: async (network) => (await door()).drift?.addIngressRule?.(network),
  },
  close: async () => (await emulator)?.stop(),
});

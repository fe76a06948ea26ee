import { type ContractHarness, runProviderContract } from "@k3sinfra/core/testing";
import type { Emulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, it } from "vitest";
import { azure } from "../src/index.js";
import { azureEnv, REGION, startAzureEmulator, testConfig, ZONES } from "./helpers.js";

// One emulator for the whole suite: the adoption cases build a second harness (a "fresh process") that
// must see what the first one made.
let emulator: Promise<Emulator> | undefined;
const shared = () => {
  emulator ??= startAzureEmulator({ seed: 13 });
  return emulator;
};
let harnesses = 0;

/** The back doors: the emulator's own inventory, never the provider under test. */
const backDoors = (e: Emulator): Omit<ContractHarness, "container" | "services"> => ({
  owned: async (tags) => e.inventory({ cloud: "azure", tags: { ...tags } }).map((i) => i.id),
  status: async (id) =>
    e.inventory({ cloud: "azure" }).find((i) => i.id.toLowerCase() === id.toLowerCase())?.state,
});

runProviderContract({
  describe,
  it,
  beforeAll,
  afterAll,
  name: "azure (emulator)",
  region: REGION,
  zones: [...ZONES],
  dns: { zone: "example.com" },
  toggles: { nodes: false, datastore: false, loadBalancer: false, dns: false, repairsDrift: false },
  poll: { minDelayMs: 5, maxDelayMs: 50 },
  harness: async () => {
    const e = await shared();
    const services = azure.services({
      config: testConfig("contract"),
      baseDir: process.cwd(),
      options: {},
      roles: ["network"],
      env: azureEnv(e),
    });
    const main = harnesses++ === 0;
    return {
      services,
      ...backDoors(e),
      close: async () => {
        if (main) await e.stop();
      },
    };
  },
});

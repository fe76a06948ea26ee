import { runProviderContract } from "@k3sinfra/core/testing";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import { container } from "tsyringe";
import { afterAll, beforeAll, describe, it } from "vitest";
import { aws } from "../src/index.js";
import { ALL_ROLES, CERT, REGION, testConfig, ZONES } from "./helpers.js";

// One emulator for the whole suite: the adoption tests build a second harness (a "fresh process") that
// must see what the first one made.
let emulator: Promise<Emulator> | undefined;
const shared = () => {
  emulator ??= startEmulator({
    timeScale: 0.001,
    seed: 11,
    fixtures: { aws: { hostedZones: ["example.com"] } },
    log: () => undefined,
  });
  return emulator;
};
let harnesses = 0;

runProviderContract({
  describe,
  it,
  beforeAll,
  afterAll,
  name: "aws (emulator)",
  region: REGION,
  zones: [...ZONES],
  dns: { zone: "example.com" },
  certificate: CERT,
  toggles: { l7: true },
  poll: { minDelayMs: 5, maxDelayMs: 50 },
  harness: async () => {
    const e = await shared();
    const child = container.createChildContainer();
    aws.register(child, {
      config: testConfig("contract"),
      baseDir: process.cwd(),
      // A final snapshot is kept on purpose and carries the cluster's tags; the contract checks that
      // nothing tagged is left, so skip it here (datastore.test.ts covers the snapshot).
      options: { finalSnapshot: false },
      roles: ALL_ROLES,
      env: {
        AWS_ENDPOINT_URL: e.endpoints.aws,
        AWS_ACCESS_KEY_ID: e.credentials.aws.accessKeyId,
        AWS_SECRET_ACCESS_KEY: e.credentials.aws.secretAccessKey,
      },
    });
    // The suite's own harness is the first; later ones (fresh processes) must not stop the emulator.
    const main = harnesses++ === 0;
    return {
      container: child,
      // The back door: the emulator's own inventory, not the provider under test.
      owned: async (tags) => e.inventory({ tags: { ...tags } }).map((i) => i.id),
      close: async () => {
        if (main) await e.stop();
      },
    };
  },
});

import { runProviderContract } from "@k3sinfra/core/testing";
import type { Emulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, it } from "vitest";
import { containerFor, envFor, ownedIn, startCloud, testConfig } from "./helpers.js";

// The Cloudflare provider passes core's conformance suite (DNS part) against the emulator.
let emu: Emulator | undefined;
const started = async () => {
  emu ??= await startCloud();
  return emu;
};

runProviderContract({
  describe,
  it,
  beforeAll,
  afterAll: (fn, timeout) =>
    afterAll(async () => {
      await fn();
      await emu?.stop();
    }, timeout),
  name: "cloudflare",
  region: "us-east-1",
  zones: ["us-east-1a", "us-east-1b"],
  dns: { zone: "example.com", target: { type: "A", addresses: ["203.0.113.10"] } },
  toggles: { network: false, nodes: false, datastore: false, loadBalancer: false, dns: true },
  poll: { minDelayMs: 1, maxDelayMs: 5 },
  harness: async () => {
    const e = await started();
    return {
      container: containerFor(testConfig("contract"), envFor(e)),
      owned: async (tags) => ownedIn(e, tags),
    };
  },
});

import { afterAll, beforeAll, describe, it } from "vitest";
import { MemoryCloud, runProviderContract } from "../src/testing/index.js";
import { memoryHarness } from "./contract-harness.js";

// The in-memory provider passes the same conformance suite every provider runs, with every back door.
runProviderContract({
  describe,
  it,
  beforeAll,
  afterAll,
  name: "memory",
  region: "memory-1",
  zones: ["memory-1a", "memory-1b"],
  dns: { zone: "example.com" },
  toggles: { l7: true, dnsRecordTypes: ["A", "CNAME"] },
  harness: memoryHarness(new MemoryCloud()),
});

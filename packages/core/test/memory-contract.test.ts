import { container } from "tsyringe";
import { afterAll, beforeAll, describe, it } from "vitest";
import { parseConfig } from "../src/index.js";
import { createMemoryProvider, MemoryCloud, runProviderContract } from "../src/testing/index.js";
import { memoryConfig } from "./helpers.js";

// The in-memory provider passes the same conformance suite every provider runs.
const cloud = new MemoryCloud();
runProviderContract({
  describe,
  it,
  beforeAll,
  afterAll,
  name: "memory",
  region: "memory-1",
  zones: ["memory-1a", "memory-1b"],
  dns: { zone: "example.com" },
  toggles: { l7: true },
  harness: async () => {
    const child = container.createChildContainer();
    createMemoryProvider(cloud).register(child, {
      config: parseConfig(memoryConfig()),
      options: {},
      baseDir: process.cwd(),
      roles: ["network", "nodes", "datastore", "loadBalancer", "dns"],
      env: {},
    });
    return { container: child, owned: async (tags) => cloud.withTags(tags).map((o) => o.id) };
  },
});

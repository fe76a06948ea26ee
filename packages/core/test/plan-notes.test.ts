import { describe, expect, it } from "vitest";
import { MemoryStateStore, ProviderRegistry, plan } from "../src/index.js";
import { createMemoryProvider, MemoryCloud } from "../src/testing/index.js";
import { memoryConfig } from "./helpers.js";

// A provider that cannot own a firewall (existing hosts) says so as data; the plan then lists the K3s port
// matrix for the user to open, the same rules a cloud's network service would have opened.
describe("plan notes for a provider with an external firewall", () => {
  const options = (firewall?: "external") => {
    const memory = createMemoryProvider(new MemoryCloud());
    const provider = firewall ? { ...memory, capabilities: { ...memory.capabilities, firewall } } : memory;
    return { registry: new ProviderRegistry().register(provider), state: new MemoryStateStore() };
  };

  it("lists every rule of the port matrix", async () => {
    const p = await plan(memoryConfig(), options("external"));
    expect(p.notes).toBeDefined();
    expect(p.notes!.some((n) => n.includes("tcp/6443"))).toBe(true);
    expect(p.notes!.some((n) => n.includes("udp/8472"))).toBe(true);
    expect(p.notes!.some((n) => n.includes("tcp/443"))).toBe(true);
  });

  it("says nothing when the provider's network service owns the firewall", async () => {
    expect((await plan(memoryConfig(), options())).notes).toBeUndefined();
  });
});

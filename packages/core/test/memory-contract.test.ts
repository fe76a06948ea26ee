import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryCloud, providerContractCases, runProviderContract } from "../src/testing/index.js";
import { memoryContract } from "./contract-harness.js";

// The in-memory provider passes the same conformance suite every provider runs, with every back door; its
// toggles come from its capabilities (L7 without a certificate, A and CNAME records).
runProviderContract({ describe, it, beforeAll, afterAll, ...memoryContract(new MemoryCloud()) });

describe("the suite's toggles default from the provider's capabilities", () => {
  const names = (o: Parameters<typeof providerContractCases>[0]) =>
    providerContractCases(o).cases.map((c) => c.name.replace(/^provider contract: [^>]+ > /, ""));
  const memory = memoryContract(new MemoryCloud());

  it("runs every kind the provider offers, L7 and its record types", () => {
    const all = names(memory);
    for (const kind of ["network", "nodes", "datastore", "load balancer (L4)"])
      expect(all.some((n) => n.startsWith(kind))).toBe(true);
    expect(all.some((n) => n.startsWith("load balancer (L7)"))).toBe(true);
    expect(all.filter((n) => n.startsWith("dns (")).map((n) => n.slice(5, n.indexOf(")")))).toEqual([
      "A",
      "CNAME",
    ]);
  });

  it("leaves out what the capabilities do not list, and an explicit toggle overrides", () => {
    const provider = memory.provider;
    const dnsOnly = { ...provider, capabilities: { ...provider.capabilities, services: ["dns" as const] } };
    const only = names({ ...memory, provider: dnsOnly });
    expect(only.filter((n) => !n.startsWith("dns ("))).toEqual([]);
    expect(only.length).toBe(2);
    const noL7 = names({ ...memory, toggles: { l7: false } });
    expect(noL7.some((n) => n.includes("L7"))).toBe(false);
  });
});

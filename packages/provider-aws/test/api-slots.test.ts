import { DnsRecordService, type DnsRecordSpec } from "@k3sinfra/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, "slots");
});
afterAll(() => h?.stop());

const spec: DnsRecordSpec = {
  zone: "example.com",
  hostname: "rancher.slots.example.com",
  target: { type: "A", addresses: ["198.51.100.7"] },
  ttl: 60,
  proxied: false,
};
const getChanges = () => h.emulator.requestLog().filter((e) => e.operation === "GetChange").length;

describe("API slots and the DNS sync hint", () => {
  it("every request takes the context's API slot, and only while it is in flight", async () => {
    let inFlight = 0;
    let taken = 0;
    const limit = async <T>(request: () => Promise<T>): Promise<T> => {
      taken++;
      inFlight++;
      try {
        return await request();
      } finally {
        inFlight--;
      }
    };
    const before = h.emulator.requestLog().length;
    const svc = h.container().resolve(DnsRecordService);
    const rec = await svc.create(spec, h.ctx("dns-record", { limit }));
    // The create waited for INSYNC (GetChange polls), each poll a request with its own slot.
    expect(getChanges()).toBeGreaterThan(0);
    expect(taken).toBe(h.emulator.requestLog().length - before);
    expect(inFlight).toBe(0);
    await svc.delete(rec, h.ctx("dns-record"));
  });

  it("a deletion told not to wait for sync returns once Route 53 accepted the change", async () => {
    const svc = h.container().resolve(DnsRecordService);
    const rec = await svc.create(spec, h.ctx("dns-record"));
    const polls = getChanges();
    await svc.delete(rec, h.ctx("dns-record", { waitForSync: false }));
    expect(getChanges()).toBe(polls);
    expect(await svc.read(rec, h.ctx("dns-record"))).toBeUndefined();
  });
});

import { CALL_MAX_ATTEMPTS, K3sinfraError } from "@k3sinfra/core";
import type { Emulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctxFor, envFor, servicesFor, startCloud, testConfig } from "./helpers.js";

let emu: Emulator;
beforeAll(async () => {
  emu = await startCloud();
});
afterAll(() => emu.stop());

const createRecord = async (name: string): Promise<K3sinfraError> => {
  const config = testConfig(name);
  const error = await servicesFor(config, envFor(emu))
    .dns!.create(
      {
        zone: config.dns.zone,
        hostname: config.rancher.hostname,
        target: { type: "A", addresses: ["203.0.113.70"] },
        ttl: 300,
        proxied: false,
      },
      ctxFor(name, "dns-record"),
    )
    .catch((e: unknown) => e);
  if (!K3sinfraError.is(error)) throw new Error(`expected a k3sinfra error, got ${String(error)}`);
  return error;
};

describe("Cloudflare calls: one retry budget, errors that name status and cf-ray", () => {
  it("gives up on a persistent 500 after the budget, naming the call, the status and the cf-ray id", async () => {
    emu.addFault({ cloud: "cloudflare", operation: "ListDnsRecords", kind: "error500" });
    const before = emu.callCounts()["dns:ListDnsRecords"] ?? 0;
    try {
      const error = await createRecord("rb500");
      expect(error.message).toMatch(
        /Cloudflare answered 10001 Internal server error \(HTTP 500, cf-ray \S+\)/,
      );
      expect(error.message).toContain(`gave up after ${CALL_MAX_ATTEMPTS} attempts`);
      expect([error.httpStatus, error.attempts, error.retryable]).toEqual([500, CALL_MAX_ATTEMPTS, true]);
      expect(error.requestId).toMatch(/^[0-9a-f]{16}-EMU$/);
      expect((emu.callCounts()["dns:ListDnsRecords"] ?? 0) - before).toBe(CALL_MAX_ATTEMPTS);
    } finally {
      emu.clearFaults();
    }
  });

  it("reports a proxy's plain-text 503 by its status and body, not as a parse failure", async () => {
    emu.addFault({
      cloud: "cloudflare",
      operation: "ListDnsRecords",
      kind: "unavailable503",
      plainText: true,
    });
    try {
      const error = await createRecord("rb503");
      expect(error.message).toMatch(
        /Cloudflare answered without a Cloudflare error envelope: "Service Unavailable" \(HTTP 503\)/,
      );
      expect(error.attempts).toBe(CALL_MAX_ATTEMPTS);
    } finally {
      emu.clearFaults();
    }
  });
});

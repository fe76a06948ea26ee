import { type BackDoorRecord, runProviderContract } from "@k3sinfra/core/testing";
import type { Emulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, it } from "vitest";
import { cloudflare } from "../src/index.js";
import { envFor, ownedIn, startCloud } from "./helpers.js";

// The Cloudflare provider passes core's conformance suite (DNS part) against the emulator.
let emu: Emulator | undefined;
const started = async () => {
  emu ??= await startCloud();
  return emu;
};

/** The back door for record values: Cloudflare's API called directly, not through the provider. */
const recordIn = async (
  e: Emulator,
  zoneId: string,
  hostname: string,
): Promise<BackDoorRecord | undefined> => {
  const url = `${e.endpoints.cloudflare}/zones/${zoneId}/dns_records?name=${encodeURIComponent(hostname)}`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${e.credentials.cloudflare.apiToken}` } });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const body = (await res.json()) as { result: { type: string; content: string }[] };
  const records = body.result.filter((r) => r.type === "A" || r.type === "CNAME");
  if (records.length === 0) return undefined;
  const types = [...new Set(records.map((r) => r.type))];
  // Cloudflare applies a change at once: there is no propagation status to wait for.
  return { type: types.join("+"), values: records.map((r) => r.content), inSync: true };
};

runProviderContract({
  describe,
  it,
  beforeAll,
  afterAll,
  name: "cloudflare",
  // DNS only, A and CNAME records: the provider's capabilities say so, so no toggles.
  provider: cloudflare,
  env: async () => envFor(await started()),
  region: "us-east-1",
  zones: ["us-east-1a", "us-east-1b"],
  dns: { zone: "example.com", target: { type: "A", addresses: ["203.0.113.10", "203.0.113.11"] } },
  poll: { minDelayMs: 1, maxDelayMs: 5 },
  owned: async (tags) => ownedIn(await started(), tags),
  record: async (state) => recordIn(await started(), state.zoneId, state.hostname),
  close: async () => emu?.stop(),
});

import { destroy, MemoryStateStore, ProviderRegistry, type StateStore, up } from "@k3sinfra/core";
import { crashableStore } from "@k3sinfra/core/testing";
import { type Emulator, type InventoryItem, VirtualClock } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gcp } from "../src/index.js";
import { gcpCrashProxy } from "./crash-proxy.js";
import { carries, startGcp, uncheckedConfig } from "./helpers.js";

let emulator: Emulator;
let env: Record<string, string>;
// Emulated time passes only while every client waits: each of the many runs below takes no wall time waiting for
// Cloud SQL, and no step races the wall clock on a loaded machine.
const clock = new VirtualClock();
beforeAll(async () => {
  ({ emulator, env } = await startGcp(13, clock));
});
afterAll(() => emulator?.stop());

const config = uncheckedConfig;

const options = (endpoint: string, state: StateStore) => ({
  registry: new ProviderRegistry().register(gcp),
  state,
  env: { ...env, K3SINFRA_GCP_ENDPOINT: endpoint },
  poll: { minDelayMs: 2_000, maxDelayMs: 30_000, clock },
  wait: false,
});

/** Everything of one cluster still in the project: by labels or description marker, and its DNS records. */
const leftovers = (name: string): InventoryItem[] =>
  emulator
    .inventory({ cloud: "gcp" })
    .filter(
      (i) =>
        carries(i, { "k3sinfra:cluster": name }) ||
        (i.type === "resource-record-set" && (i.name ?? "").includes(`rancher.${name}.example.com`)),
    );

describe("a crash after any create call", () => {
  it("up resumes to the same cluster with no duplicate, and destroy then leaves nothing", async () => {
    const probe = gcpCrashProxy(emulator.url);
    const probeState = new MemoryStateStore();
    await up(config("crash0"), options(await probe.start(), probeState));
    const total = probe.changes.length;
    await probe.stop();
    expect(total).toBeGreaterThan(20);
    const clean = leftovers("crash0")
      .map((i) => i.type)
      .sort();
    await destroy(config("crash0"), options(emulator.url, probeState));
    expect(leftovers("crash0")).toEqual([]);

    for (let k = 1; k <= total; k++) {
      const name = `crash${k}`;
      const proxy = gcpCrashProxy(emulator.url);
      const inner = new MemoryStateStore();
      const { store, crash } = crashableStore(inner);
      const controller = new AbortController();
      proxy.begin(k, () => {
        crash();
        controller.abort(new Error("simulated crash"));
      });
      await expect(
        up(config(name), { ...options(await proxy.start(), store), signal: controller.signal }),
        `up crashing after create call ${k}`,
      ).rejects.toThrow();
      expect(proxy.crashed, `crash after create call ${k}`).toBe(true);
      await proxy.stop();
      // The killed process's lock is not this test's subject; take it over, then run up again.
      const lock = await inner.lockInfo();
      if (lock) await inner.forceUnlock(lock.id);
      await up(config(name), options(emulator.url, inner));
      expect(
        leftovers(name)
          .map((i) => i.type)
          .sort(),
        `objects after a crash at create call ${k}`,
      ).toEqual(clean);
      await destroy(config(name), options(emulator.url, inner));
      expect(leftovers(name), `left after a crash at create call ${k}`).toEqual([]);
    }
  }, 900_000);
});

import { destroy, up } from "@k3sinfra/core";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leftovers, libraryConfig, libraryOptions } from "./library.js";

const CLUSTERS = 20;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    timeScale: 0.0005,
    seed: 20,
    fixtures: { aws: { hostedZones: ["example.com"] } },
    log: () => undefined,
  });
});
afterAll(() => emulator?.stop());

describe("many clusters in one account", () => {
  it(`${CLUSTERS} clusters created and destroyed at the same time: every destroy succeeds, nothing is left`, async () => {
    const names = Array.from({ length: CLUSTERS }, (_, i) => `par${i}`);
    const runs = names.map((name) => ({ name, ...libraryOptions(emulator.endpoints.aws!, emulator) }));
    const created = await Promise.allSettled(
      runs.map((r) => up(libraryConfig(r.name), { ...r.options, parallelism: 2 })),
    );
    expect(created.filter((c) => c.status === "rejected")).toEqual([]);
    for (const { name } of runs) expect(leftovers(emulator, name).length).toBeGreaterThan(0);

    // Every destroy's sweep lists the whole account's load balancers and target groups while the others
    // delete theirs: what vanishes between listing and describing must simply be gone.
    const destroyed = await Promise.allSettled(
      runs.map((r) => destroy(libraryConfig(r.name), { ...r.options, parallelism: 2 })),
    );
    expect(
      destroyed.flatMap((d, i) => (d.status === "rejected" ? [`${names[i]}: ${String(d.reason)}`] : [])),
    ).toEqual([]);
    expect(emulator.inventory()).toEqual([]);
    for (const { state } of runs) expect(await state.read()).toBeUndefined();
  });
});

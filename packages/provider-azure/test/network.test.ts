import { resourceTags } from "@k3sinfra/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RawArm } from "./back-door.js";
import { type Harness, networkSpec, startHarness } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.stop());

describe("AzureNetworkService on the emulator", () => {
  it("makes the cluster's resource group, a VNet with the node and MySQL subnets, and the two NSGs; delete removes them all", async () => {
    const svc = h.services().network!;
    const ctx = h.ctx("network");
    const state = await svc.create(networkSpec(), ctx);
    expect(state.id).toMatch(
      /\/resourceGroups\/k3sinfra-tst\/providers\/Microsoft\.Network\/virtualNetworks\/k3s-tst-net$/,
    );
    const inv = h.emulator.inventory({ cloud: "azure", tags: resourceTags("tst", "network") });
    expect(inv.map((i) => i.type).sort()).toEqual([
      "Microsoft.Network/networkSecurityGroups",
      "Microsoft.Network/networkSecurityGroups",
      "Microsoft.Network/virtualNetworks",
      "Microsoft.Resources/resourceGroups",
    ]);
    expect(inv.every((i) => i.state === "Succeeded")).toBe(true);
    const subnets = h.emulator.inventory({ cloud: "azure" }).filter((i) => i.type.endsWith("/subnets"));
    expect(subnets.map((s) => s.name).sort()).toEqual(["mysql", "nodes"]);
    // The K3s ports are open only from the node subnet; 80/443 from the Internet and the LB's probes.
    const rules = h.emulator.inventory({ cloud: "azure" }).filter((i) => i.type.endsWith("/securityRules"));
    expect(rules.length).toBe(state.ruleCount);

    await svc.delete(state, ctx);
    expect(await svc.read(state, ctx)).toBeUndefined();
    expect(h.emulator.inventory({ cloud: "azure", tags: { "k3sinfra:cluster": "tst" } })).toEqual([]);
  });
});

describe("AzureNetworkService in a given resource group", () => {
  it("builds in it and never deletes it; a missing one is a config error naming the option", async () => {
    const arm = new RawArm(h.emulator);
    const rg = `/subscriptions/${h.emulator.credentials.azure.subscriptionId}/resourceGroups/mine`;
    await expect(
      h.services({ resourceGroup: "mine" }).network!.create(networkSpec(), h.ctx("network")),
    ).rejects.toThrow(/options\.azure\.resourceGroup/);
    expect((await arm.call("PUT", rg, "2025-04-01", { location: "westeurope" })).status).toBe(201);
    const svc = h.services({ resourceGroup: "mine" }).network!;
    const state = await svc.create(networkSpec(), h.ctx("network"));
    expect(state.id).toContain("/resourceGroups/mine/");
    await svc.delete(state, h.ctx("network"));
    expect(await svc.read(state, h.ctx("network"))).toBeUndefined();
    expect((await arm.call("GET", rg, "2025-04-01")).status).toBe(200);
    expect(h.emulator.inventory({ cloud: "azure", tags: { "k3sinfra:cluster": "tst" } })).toEqual([]);
  });
});

describe("AzureNetworkService's address space", () => {
  it("defaults clear of K3s's pod and service networks, and never re-addresses a live VNet", async () => {
    const arm = new RawArm(h.emulator);
    const svc = h.services().network!;
    const state = await svc.create(networkSpec(), h.ctx("network"));
    const vnet = (await arm.call("GET", state.id, "2026-01-01")).body as {
      properties: {
        addressSpace: { addressPrefixes: string[] };
        subnets: { properties: { addressPrefix: string } }[];
      };
    };
    expect(vnet.properties.addressSpace.addressPrefixes).toEqual(["10.100.0.0/16"]);
    expect(vnet.properties.subnets.map((s) => s.properties.addressPrefix).sort()).toEqual([
      "10.100.0.0/24",
      "10.100.1.0/24",
    ]);
    // Another address space for the same live cluster is refused, naming the option and what to do.
    await expect(
      h.services({ addressSpace: "10.101.0.0/16" }).network!.create(networkSpec(), h.ctx("network")),
    ).rejects.toThrow(/has the address space 10\.100\.0\.0\/16.*set addressSpace to 10\.100\.0\.0\/16/);
    await svc.delete(state, h.ctx("network"));

    // A VNet an earlier version made in 10.42.0.0/16 (K3s's pod network): up says why and what to do.
    const old = await h
      .services({ addressSpace: "10.42.0.0/16" })
      .network!.create(networkSpec(), h.ctx("network"));
    await expect(svc.create(networkSpec(), h.ctx("network"))).rejects.toThrow(
      /overlaps K3s's pod network.*destroy the cluster and up it again/,
    );
    await svc.delete(old, h.ctx("network"));
    expect(h.emulator.inventory({ cloud: "azure", tags: { "k3sinfra:cluster": "tst" } })).toEqual([]);
  });
});

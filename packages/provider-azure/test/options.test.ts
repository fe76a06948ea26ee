import { join } from "node:path";
import { ProviderRegistry, validateConfig } from "@k3sinfra/core";
import { describe, expect, it } from "vitest";
import { azure } from "../src/index.js";
import { parseAzureOptions } from "../src/options.js";

const VNET =
  "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/hub-net/providers/Microsoft.Network/virtualNetworks/spoke-1";

const issues = (raw: unknown) => {
  const r = parseAzureOptions(raw);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
};

describe("options.azure: an existing VNet", () => {
  it("takes a VNet id in another resource group with its two subnet names", () => {
    expect(issues({ virtualNetworkId: VNET, nodeSubnet: "k3s-nodes", datastoreSubnet: "mysql_1" })).toEqual(
      [],
    );
  });

  it("refuses what is not a VNet resource id, or not a subnet name, naming the path", () => {
    expect(issues({ virtualNetworkId: "spoke-1", nodeSubnet: "a", datastoreSubnet: "b" })).toEqual([
      expect.stringMatching(/^virtualNetworkId: must be a virtual network's resource id/),
    ]);
    expect(
      issues({ virtualNetworkId: `${VNET}/subnets/x`, nodeSubnet: "-bad", datastoreSubnet: "b." }).map(
        (i) => i.split(":")[0],
      ),
    ).toEqual(["virtualNetworkId", "nodeSubnet", "datastoreSubnet"]);
  });

  it("needs both subnets with the VNet, and refuses them without it", () => {
    expect(issues({ virtualNetworkId: VNET })).toEqual([
      "nodeSubnet: is required with options.azure.virtualNetworkId: name a subnet of that VNet",
      "datastoreSubnet: is required with options.azure.virtualNetworkId: name a subnet of that VNet",
    ]);
    expect(issues({ nodeSubnet: "nodes" })).toEqual([
      "nodeSubnet: applies only with options.azure.virtualNetworkId: set it, or remove this",
    ]);
  });

  it("refuses addressSpace with virtualNetworkId, and one subnet for both roles", () => {
    expect(
      issues({
        virtualNetworkId: VNET,
        addressSpace: "10.100.0.0/16",
        nodeSubnet: "a",
        datastoreSubnet: "A",
      }),
    ).toEqual([
      expect.stringMatching(/^addressSpace: conflicts with options\.azure\.virtualNetworkId/),
      expect.stringMatching(/^datastoreSubnet: must differ from options\.azure\.nodeSubnet/),
    ]);
    // Without the VNet, addressSpace alone is as before, but never K3s's pod or service network.
    expect(issues({ addressSpace: "10.100.0.0/16" })).toEqual([]);
    for (const inside of ["10.42.0.0/16", "10.43.0.0/16"])
      expect(issues({ addressSpace: inside })).toEqual([
        expect.stringMatching(
          /^addressSpace: must be a \/16 in 10\.0\.0\.0\/8 outside K3s's pod and service networks/,
        ),
      ]);
  });
});

describe("examples/azure-existing-vnet.yaml", () => {
  it("validates with the Azure provider (its options included), and sets no addressSpace", async () => {
    const file = join(import.meta.dirname, "../../../examples/azure-existing-vnet.yaml");
    const config = await validateConfig(file, { registry: new ProviderRegistry().register(azure) });
    const options = config.options.azure as Record<string, unknown>;
    expect(options.virtualNetworkId).toMatch(
      /\/providers\/Microsoft\.Network\/virtualNetworks\/spoke-rancher$/,
    );
    expect(issues(options)).toEqual([]);
    expect(options.addressSpace).toBeUndefined();
  });
});

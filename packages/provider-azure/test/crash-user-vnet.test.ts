// The crash suite (crash-suite.ts) with every cluster in a VNet made outside k3sinfra: after each destroy,
// killed or not and run again, the VNet and its subnets read as before the first up (the datastore subnet's
// etag aside: k3sinfra put its NSG on it and took it off again).
import { AZURE_TEST_CREDENTIALS, type Emulator } from "@k3sinfra/emulator";
import { RawArm } from "./back-door.js";
import { crashSuite } from "./crash-suite.js";
import { DNS_RG } from "./helpers.js";

const vnet = `/subscriptions/${AZURE_TEST_CREDENTIALS.subscriptionId}/resourceGroups/shared-net/providers/Microsoft.Network/virtualNetworks/spoke`;

/** The VNet and its subnets as ARM returns them, etags and the NICs a subnet lists left out. */
async function outside(emulator: Emulator): Promise<unknown> {
  const arm = new RawArm(emulator);
  const strip = (r: Record<string, unknown>) => {
    const { etag: _etag, ...rest } = r;
    const { ipConfigurations: _nics, ...props } = (rest.properties ?? {}) as Record<string, unknown>;
    return { ...rest, properties: props };
  };
  const { etag: _etag, ...v } = (await arm.call("GET", vnet, "2024-05-01")).body;
  const { subnets, ...props } = v.properties as { subnets: Record<string, unknown>[] };
  return { ...v, properties: props, subnets: subnets.map(strip) };
}

crashSuite({
  label: " in a user's VNet",
  azure: { virtualNetworkId: vnet, nodeSubnet: "nodes", datastoreSubnet: "mysql" },
  fixtures: {
    azure: {
      dnsZones: [{ zone: "example.com", resourceGroup: DNS_RG }],
      virtualNetworks: [
        {
          resourceGroup: "shared-net",
          name: "spoke",
          addressSpace: ["10.70.0.0/16"],
          subnets: [
            { name: "nodes", addressPrefix: "10.70.0.0/24" },
            {
              name: "mysql",
              addressPrefix: "10.70.1.0/24",
              delegation: "Microsoft.DBforMySQL/flexibleServers",
            },
          ],
        },
      ],
    },
  },
  outside,
});

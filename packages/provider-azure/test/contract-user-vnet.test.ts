import { AZURE_TEST_CREDENTIALS } from "@k3sinfra/emulator";
import { runAzureContract } from "./contract-doors.js";
import { DNS_RG, startAzureEmulator } from "./helpers.js";

// Core's conformance suite again, with the cluster in a VNet the user made (options.azure.virtualNetworkId):
// the same contract holds, and what the cluster made is all that `owned` finds (the VNet carries no tag).
runAzureContract(
  "azure in a user's VNet (emulator)",
  () =>
    startAzureEmulator({
      seed: 17,
      fixtures: {
        azure: {
          dnsZones: [{ zone: "example.com", resourceGroup: DNS_RG }],
          virtualNetworks: [
            {
              resourceGroup: "platform-net",
              name: "spoke",
              addressSpace: ["10.60.0.0/16"],
              subnets: [
                { name: "k3s", addressPrefix: "10.60.0.0/24" },
                {
                  name: "mysql",
                  addressPrefix: "10.60.8.0/28",
                  delegation: "Microsoft.DBforMySQL/flexibleServers",
                },
              ],
            },
          ],
        },
      },
    }),
  {
    virtualNetworkId: `/subscriptions/${AZURE_TEST_CREDENTIALS.subscriptionId}/resourceGroups/platform-net/providers/Microsoft.Network/virtualNetworks/spoke`,
    nodeSubnet: "k3s",
    datastoreSubnet: "mysql",
  },
);

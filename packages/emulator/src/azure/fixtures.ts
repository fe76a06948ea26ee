/**
 * What exists in the emulated subscription before the first request (`fixtures.azure`): public DNS zones and
 * virtual networks made outside the client under test (a platform team's hub or spoke), each in its resource
 * group, made when missing. Fixtures are kept across restarts and made once; they show in the inventory only
 * with `includeDefaults`.
 */
import type { AzureFixtures } from "../types.js";
import { AZURE_TEST_CREDENTIALS } from "./credentials.js";
import type { AzureState } from "./model.js";

export function seedFixtures(
  fx: AzureFixtures | undefined,
  state: AzureState,
  now: number,
  uuid: () => string,
): void {
  if (!fx) return;
  const sub = AZURE_TEST_CREDENTIALS.subscriptionId;
  const make = (
    id: string,
    type: string,
    name: string,
    resourceGroup: string,
    location: string | undefined,
    properties: Record<string, unknown>,
  ) => {
    if (state.resources[id.toLowerCase()]) return;
    state.resources[id.toLowerCase()] = {
      id,
      type,
      name,
      resourceGroup,
      ...(location ? { location } : {}),
      ...(location ? { tags: {} } : {}),
      properties,
      createdAt: now,
      readyAt: now,
      etag: uuid(),
      hidden: { fixture: true },
    };
  };
  const group = (name: string, location: string) =>
    make(
      `/subscriptions/${sub}/resourceGroups/${name}`,
      "Microsoft.Resources/resourceGroups",
      name,
      name,
      location,
      {},
    );
  for (const { zone, resourceGroup } of fx.dnsZones ?? []) {
    const rg = `/subscriptions/${sub}/resourceGroups/${resourceGroup}`;
    group(resourceGroup, "westeurope");
    make(
      `${rg}/providers/Microsoft.Network/dnszones/${zone}`,
      "Microsoft.Network/dnszones",
      zone,
      resourceGroup,
      "global",
      {
        zoneType: "Public",
        nameServers: [
          "ns1-01.azure-dns.com.",
          "ns2-01.azure-dns.net.",
          "ns3-01.azure-dns.org.",
          "ns4-01.azure-dns.info.",
        ],
        numberOfRecordSets: 2,
        maxNumberOfRecordSets: 10000,
      },
    );
  }
  for (const v of fx.virtualNetworks ?? []) {
    const location = v.location ?? "westeurope";
    group(v.resourceGroup, location);
    const id = `/subscriptions/${sub}/resourceGroups/${v.resourceGroup}/providers/Microsoft.Network/virtualNetworks/${v.name}`;
    make(id, "Microsoft.Network/virtualNetworks", v.name, v.resourceGroup, location, {
      addressSpace: { addressPrefixes: v.addressSpace },
    });
    // Subnets are children stored beside their VNet, as a VNet PUT stores them (kinds/network.ts).
    for (const s of v.subnets)
      make(
        `${id}/subnets/${s.name}`,
        "Microsoft.Network/virtualNetworks/subnets",
        s.name,
        v.resourceGroup,
        undefined,
        {
          addressPrefix: s.addressPrefix,
          delegations: s.delegation
            ? [{ name: "delegation", properties: { serviceName: s.delegation } }]
            : [],
          privateEndpointNetworkPolicies: "Disabled",
          privateLinkServiceNetworkPolicies: "Enabled",
        },
      );
  }
}

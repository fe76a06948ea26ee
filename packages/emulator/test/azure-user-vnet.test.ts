// A VNet made outside the client (`fixtures.azure.virtualNetworks`), served over ARM as any other, and the rules
// a cluster built in it meets: MySQL flexible server only in a subnet delegated to it, an NSG held by a NIC
// (a NIC-level NSG) or a subnet refused deletion until it is let go.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AZURE_TEST_CREDENTIALS, type Emulator, startEmulator } from "../src/index.js";
import { azureRequest, azureToken } from "./azure-helpers.js";

let e: Emulator;
let token: string;
const sub = `/subscriptions/${AZURE_TEST_CREDENTIALS.subscriptionId}`;
const vnet = `${sub}/resourceGroups/hub/providers/Microsoft.Network/virtualNetworks/spoke`;
const rg = `${sub}/resourceGroups/app`;
const NET = "api-version=2026-01-01";
const MYSQL = "Microsoft.DBforMySQL/flexibleServers";

const call = (method: string, url: string, body?: unknown) => azureRequest(e, method, url, body, { token });
/** Waits out an async PUT or DELETE (the emulator runs on a fast clock here). */
const settle = () => new Promise((r) => setTimeout(r, 50));

beforeAll(async () => {
  e = await startEmulator({
    clouds: ["azure"],
    timeScale: 0.0001,
    seed: 8,
    log: () => undefined,
    fixtures: {
      azure: {
        virtualNetworks: [
          {
            resourceGroup: "hub",
            name: "spoke",
            addressSpace: ["10.20.0.0/16"],
            subnets: [
              { name: "apps", addressPrefix: "10.20.0.0/24" },
              { name: "db", addressPrefix: "10.20.1.0/24", delegation: MYSQL },
            ],
          },
        ],
      },
    },
  });
  token = await azureToken(e);
  await call("PUT", `${rg}?api-version=2025-04-01`, { location: "westeurope" });
});
afterAll(() => e?.stop());

describe("emulated Azure: a VNet made outside the client", () => {
  it("is served with its subnets and delegation, and listed only with the defaults", async () => {
    const got = await call("GET", `${vnet}?${NET}`);
    expect(got.status).toBe(200);
    expect(got.body.location).toBe("westeurope");
    expect(got.body.properties.addressSpace.addressPrefixes).toEqual(["10.20.0.0/16"]);
    expect(got.body.properties.subnets.map((s: { name: string }) => s.name)).toEqual(["apps", "db"]);
    const db = await call("GET", `${vnet}/subnets/db?${NET}`);
    expect(db.body.properties.delegations[0].properties.serviceName).toBe(MYSQL);
    expect(e.inventory({ cloud: "azure" }).some((i) => i.id === vnet)).toBe(false);
    expect(e.inventory({ cloud: "azure", includeDefaults: true }).some((i) => i.id === vnet)).toBe(true);
  });

  it("a flexible server in its undelegated subnet is refused: SubnetNotDelegated", async () => {
    const zone = `${rg}/providers/Microsoft.Network/privateDnsZones/s.private.mysql.database.azure.com`;
    await call("PUT", `${zone}?api-version=2024-06-01`, { location: "global" });
    await settle();
    const put = await call("PUT", `${rg}/providers/${MYSQL}/user-db-1?api-version=2021-05-01`, {
      location: "westeurope",
      sku: { name: "Standard_D2ds_v4", tier: "GeneralPurpose" },
      properties: {
        administratorLogin: "k3sadmin",
        administratorLoginPassword: "Abcdefgh1234",
        version: "8.0.21",
        network: { delegatedSubnetResourceId: `${vnet}/subnets/apps`, privateDnsZoneResourceId: zone },
      },
    });
    expect(put.status).toBe(400);
    expect(put.body.error.code).toBe("SubnetNotDelegated");
  });

  it("an NSG held by a NIC in the user's subnet is refused deletion until the NIC lets it go", async () => {
    const nsg = `${rg}/providers/Microsoft.Network/networkSecurityGroups/nic-level`;
    expect((await call("PUT", `${nsg}?${NET}`, { location: "westeurope" })).status).toBeLessThan(300);
    await settle();
    const nic = `${rg}/providers/Microsoft.Network/networkInterfaces/n0`;
    const body = (withNsg: boolean) => ({
      location: "westeurope",
      properties: {
        ...(withNsg ? { networkSecurityGroup: { id: nsg } } : {}),
        ipConfigurations: [{ name: "ip", properties: { subnet: { id: `${vnet}/subnets/apps` } } }],
      },
    });
    expect((await call("PUT", `${nic}?${NET}`, body(true))).status).toBeLessThan(300);
    await settle();
    const held = await call("GET", `${nsg}?${NET}`);
    expect(held.body.properties.networkInterfaces).toEqual([{ id: nic }]);
    expect(held.body.properties.subnets).toEqual([]);
    const refused = await call("DELETE", `${nsg}?${NET}`);
    expect(refused.body.error.code).toBe("InUseNetworkSecurityGroupCannotBeDeleted");
    // The user's subnet holds the NIC's IP configuration but no NSG: the NSG is the NIC's alone.
    const apps = await call("GET", `${vnet}/subnets/apps?${NET}`);
    expect(apps.body.properties.networkSecurityGroup).toBeUndefined();
    expect((await call("PUT", `${nic}?${NET}`, body(false))).status).toBeLessThan(300);
    await settle();
    expect((await call("DELETE", `${nsg}?${NET}`)).status).toBeLessThan(300);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AZURE_TEST_CREDENTIALS, type Emulator, startEmulator } from "../src/index.js";
import { azureRequest, azureToken } from "./azure-helpers.js";

let e: Emulator;
let token: string;
// Known before the emulator starts: the test cases below name resources under it.
const sub = `/subscriptions/${AZURE_TEST_CREDENTIALS.subscriptionId}`;
const rg = `${sub}/resourceGroups/rules`;

const call = (method: string, url: string, body?: unknown) => azureRequest(e, method, url, body, { token });

const NET = "api-version=2026-01-01";
const SQL = "api-version=2021-05-01";

beforeAll(async () => {
  e = await startEmulator({ clouds: ["azure"], timeScale: 0.0001, seed: 4, log: () => undefined });
  token = await azureToken(e);
  await call("PUT", `${rg}?api-version=2025-04-01`, { location: "westeurope" });
  await call("PUT", `${rg}/providers/Microsoft.Network/virtualNetworks/vn?${NET}`, {
    location: "westeurope",
    properties: {
      addressSpace: { addressPrefixes: ["10.9.0.0/16"] },
      subnets: [
        { name: "plain", properties: { addressPrefix: "10.9.0.0/24" } },
        {
          name: "db",
          properties: {
            addressPrefix: "10.9.1.0/24",
            delegations: [{ name: "d", properties: { serviceName: "Microsoft.DBforMySQL/flexibleServers" } }],
          },
        },
      ],
    },
  });
  await call(
    "PUT",
    `${rg}/providers/Microsoft.Network/privateDnsZones/x.private.mysql.database.azure.com?api-version=2024-06-01`,
    { location: "global" },
  );
  await call(
    "PUT",
    `${rg}/providers/Microsoft.Network/privateDnsZones/wrong.example.com?api-version=2024-06-01`,
    { location: "global" },
  );
});
afterAll(() => e?.stop());

const server = (over: { sku?: object; props?: object } = {}) => ({
  location: "westeurope",
  sku: { name: "Standard_D2ds_v4", tier: "GeneralPurpose", ...over.sku },
  properties: {
    administratorLogin: "k3sadmin",
    administratorLoginPassword: "Abcdefgh1234",
    version: "8.0.21",
    network: {
      delegatedSubnetResourceId: `${rg}/providers/Microsoft.Network/virtualNetworks/vn/subnets/db`,
      privateDnsZoneResourceId: `${rg}/providers/Microsoft.Network/privateDnsZones/x.private.mysql.database.azure.com`,
    },
    ...over.props,
  },
});

describe("emulated Azure: the rules of MySQL flexible server", () => {
  it.each([
    [
      "a password from two character classes",
      { props: { administratorLoginPassword: "abcdefgh1234" } },
      "PasswordNotComplex",
    ],
    ["a reserved admin login", { props: { administratorLogin: "admin" } }, "InvalidAdministratorLogin"],
    ["MySQL 8.4 (not in api-version 2021-05-01)", { props: { version: "8.4" } }, "InvalidParameter"],
    [
      "high availability on Burstable",
      {
        sku: { name: "Standard_B1ms", tier: "Burstable" },
        props: { highAvailability: { mode: "ZoneRedundant" } },
      },
      "HANotSupportedForBurstable",
    ],
    [
      "a subnet not delegated to the service",
      {
        props: {
          network: {
            delegatedSubnetResourceId: `${rg}/providers/Microsoft.Network/virtualNetworks/vn/subnets/plain`,
            privateDnsZoneResourceId: `${rg}/providers/Microsoft.Network/privateDnsZones/x.private.mysql.database.azure.com`,
          },
        },
      },
      "SubnetNotDelegated",
    ],
    [
      "a private DNS zone not ending in mysql.database.azure.com",
      {
        props: {
          network: {
            delegatedSubnetResourceId: `${rg}/providers/Microsoft.Network/virtualNetworks/vn/subnets/db`,
            privateDnsZoneResourceId: `${rg}/providers/Microsoft.Network/privateDnsZones/wrong.example.com`,
          },
        },
      },
      "InvalidPrivateDnsZone",
    ],
  ] as const)("refuses %s", async (_what, over, code) => {
    const r = await call(
      "PUT",
      `${rg}/providers/Microsoft.DBforMySQL/flexibleServers/db1?${SQL}`,
      server(over),
    );
    expect(r.status).toBe(400);
    expect(r.body.error.code, r.body.error.message).toBe(code);
  });

  it("accepts a valid server with 202, Azure-AsyncOperation and Location; its name is then taken; the password is never returned", async () => {
    const ok = await call("PUT", `${rg}/providers/Microsoft.DBforMySQL/flexibleServers/db2?${SQL}`, server());
    expect(ok.status).toBe(202);
    const got = await call("GET", `${rg}/providers/Microsoft.DBforMySQL/flexibleServers/db2?${SQL}`);
    expect(got.body.properties.fullyQualifiedDomainName).toBe("db2.mysql.database.azure.com");
    expect(JSON.stringify(got.body)).not.toContain("Abcdefgh1234");
    await call("PUT", `${sub}/resourceGroups/other?api-version=2025-04-01`, { location: "westeurope" });
    const clash = await call(
      "PUT",
      `${sub}/resourceGroups/other/providers/Microsoft.DBforMySQL/flexibleServers/db2?${SQL}`,
      server(),
    );
    expect(clash.status).toBe(409);
  });
});

describe("emulated Azure: the rules of load balancers and public IPs", () => {
  const lb = (disableOutboundSnat: boolean) => {
    const id = `${rg}/providers/Microsoft.Network/loadBalancers/lb`;
    return {
      location: "westeurope",
      sku: { name: "Standard" },
      properties: {
        frontendIPConfigurations: [
          {
            name: "fe",
            properties: { publicIPAddress: { id: `${rg}/providers/Microsoft.Network/publicIPAddresses/ip` } },
          },
        ],
        backendAddressPools: [{ name: "pool" }],
        probes: [{ name: "p", properties: { protocol: "Tcp", port: 80 } }],
        loadBalancingRules: [
          {
            name: "r",
            properties: {
              frontendIPConfiguration: { id: `${id}/frontendIPConfigurations/fe` },
              backendAddressPool: { id: `${id}/backendAddressPools/pool` },
              probe: { id: `${id}/probes/p` },
              protocol: "Tcp",
              frontendPort: 443,
              backendPort: 443,
              idleTimeoutInMinutes: 30,
              disableOutboundSnat,
            },
          },
        ],
        outboundRules: [
          {
            name: "o",
            properties: {
              protocol: "All",
              frontendIPConfigurations: [{ id: `${id}/frontendIPConfigurations/fe` }],
              backendAddressPool: { id: `${id}/backendAddressPools/pool` },
            },
          },
        ],
      },
    };
  };

  it("a Standard public IP must be static; a rule sharing a pool with an outbound rule must disable SNAT; an IP in use refuses deletion", async () => {
    const ipUrl = `${rg}/providers/Microsoft.Network/publicIPAddresses/ip?${NET}`;
    const dynamic = await call("PUT", ipUrl, {
      location: "westeurope",
      sku: { name: "Standard" },
      properties: { publicIPAllocationMethod: "Dynamic" },
    });
    expect(dynamic.body.error.code).toBe("StandardSkuPublicIPAddressesMustBeStatic");
    expect(
      (
        await call("PUT", ipUrl, {
          location: "westeurope",
          sku: { name: "Standard" },
          zones: ["1", "2", "3"],
          properties: { publicIPAllocationMethod: "Static" },
        })
      ).status,
    ).toBe(201);
    const snat = await call("PUT", `${rg}/providers/Microsoft.Network/loadBalancers/lb?${NET}`, lb(false));
    expect(snat.status).toBe(400);
    expect(snat.body.error.code).toMatch(/DisableSNAT/);
    expect(
      (await call("PUT", `${rg}/providers/Microsoft.Network/loadBalancers/lb?${NET}`, lb(true))).status,
    ).toBe(201);
    const del = await call("DELETE", ipUrl);
    expect(del.status).toBe(400);
    expect(del.body.error.code).toBe("PublicIPAddressCannotBeDeleted");
  });
});

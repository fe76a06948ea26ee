import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/index.js";
import { azureRequest, tokenRequest } from "./azure-helpers.js";

/** One HTTPS request trusting only the emulator's CA: what the Azure clients send, on the wire. */
const call = (e: Emulator, method: string, url: string, body?: unknown, token?: string) =>
  azureRequest(e, method, url, body, { token });

let e: Emulator;
let token: string;
let now = 1_000_000;
const V = "api-version=2026-01-01";
let sub: string;
let rg: string;

beforeAll(async () => {
  e = await startEmulator({
    clouds: ["azure"],
    timeScale: 1,
    seed: 3,
    clock: () => now,
    log: () => undefined,
  });
  const c = e.credentials.azure;
  sub = `/subscriptions/${c.subscriptionId}`;
  rg = `${sub}/resourceGroups/rg1`;
  const t = await tokenRequest(e);
  expect(t.status).toBe(200);
  token = t.body.access_token;
});
afterAll(() => e?.stop());

describe("emulated Azure Resource Manager (wire)", () => {
  it("serves HTTPS with a CA it made, and refuses a wrong client secret like Entra ID", async () => {
    expect(e.httpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(e.caPem).toContain("BEGIN CERTIFICATE");
    const c = e.credentials.azure;
    const bad = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: c.clientId,
      client_secret: "nope",
      scope: "x/.default",
    });
    const r = await call(e, "POST", `/${c.tenantId}/oauth2/v2.0/token`, bad.toString());
    expect(r.status).toBe(401);
    expect(r.body.error_description).toMatch(/^AADSTS7000215/);
  });

  it("requires a bearer token and an api-version", async () => {
    const noToken = await call(e, "GET", `${rg}?api-version=2025-04-01`);
    expect(noToken.status).toBe(401);
    const noVersion = await call(e, "GET", rg, undefined, token);
    expect(noVersion.status).toBe(400);
    expect(noVersion.body.error.code).toBe("MissingApiVersionParameter");
  });

  it("answers 404 ResourceGroupNotFound, then ResourceNotFound once the group exists", async () => {
    const vnet = `${rg}/providers/Microsoft.Network/virtualNetworks/v1?${V}`;
    const missingGroup = await call(e, "GET", vnet, undefined, token);
    expect(missingGroup.status).toBe(404);
    expect(missingGroup.body.error.code).toBe("ResourceGroupNotFound");
    const made = await call(
      e,
      "PUT",
      `${sub}/resourcegroups/rg1?api-version=2025-04-01`,
      { location: "westeurope", tags: { a: "b" } },
      token,
    );
    expect(made.status).toBe(201);
    const missing = await call(e, "GET", vnet, undefined, token);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("ResourceNotFound");
    expect(missing.body.error.message).toContain("Microsoft.Network/virtualNetworks/v1");
  });

  it("a PUT answers 201 with an absolute Azure-AsyncOperation URL that reports InProgress until the time passes", async () => {
    const url = `${rg}/providers/Microsoft.Network/virtualNetworks/v1?${V}`;
    const body = {
      location: "westeurope",
      properties: {
        addressSpace: { addressPrefixes: ["10.1.0.0/16"] },
        subnets: [{ name: "s1", properties: { addressPrefix: "10.1.0.0/24" } }],
      },
    };
    const put = await call(e, "PUT", url, body, token);
    expect(put.status).toBe(201);
    expect(put.body.properties.provisioningState).toBe("Creating");
    const op = put.headers["azure-asyncoperation"]!;
    expect(op.startsWith(`${e.httpsUrl}/subscriptions/`)).toBe(true);
    expect((await call(e, "GET", op, undefined, token)).body.status).toBe("InProgress");
    now += 60_000;
    expect((await call(e, "GET", op, undefined, token)).body.status).toBe("Succeeded");
    const got = await call(e, "GET", url, undefined, token);
    expect(got.body.properties.provisioningState).toBe("Succeeded");
    expect(got.body.properties.subnets.map((s: { name: string }) => s.name)).toEqual(["s1"]);
  });

  it("operation URLs are on the host the client called (its Host header), as ARM answers on its own endpoint", async () => {
    // Reached as localhost (the certificate names it): a client behind a proxy is pointed back at the proxy.
    const port = new URL(e.httpsUrl ?? "").port;
    const { headers: answer } = await azureRequest(
      e,
      "PUT",
      `${rg}/providers/Microsoft.Network/virtualNetworks/v-host?${V}`,
      { location: "westeurope", properties: { addressSpace: { addressPrefixes: ["10.9.0.0/16"] } } },
      { token, headers: { host: `localhost:${port}` } },
    );
    expect(String(answer["azure-asyncoperation"])).toMatch(
      new RegExp(`^https://localhost:${port}/subscriptions/`),
    );
  });

  it("checks bodies: a subnet outside the address space, a missing required field", async () => {
    const url = `${rg}/providers/Microsoft.Network/virtualNetworks/v2?${V}`;
    const outside = await call(
      e,
      "PUT",
      url,
      {
        location: "westeurope",
        properties: {
          addressSpace: { addressPrefixes: ["10.2.0.0/16"] },
          subnets: [{ name: "s", properties: { addressPrefix: "10.3.0.0/24" } }],
        },
      },
      token,
    );
    expect(outside.status).toBe(400);
    expect(outside.body.error.code).toBe("NetcfgSubnetRangeOutsideVnet");
    const noLocation = await call(
      e,
      "PUT",
      url,
      { properties: { addressSpace: { addressPrefixes: ["10.2.0.0/16"] } } },
      token,
    );
    expect(noLocation.status).toBe(400);
    expect(noLocation.body.error.code).toBe("MissingRequiredParameter");
    const badName = await call(
      e,
      "PUT",
      `${rg}/providers/Microsoft.Network/virtualNetworks/-bad?${V}`,
      { location: "westeurope" },
      token,
    );
    expect(badName.body.error.code).toBe("InvalidResourceName");
  });

  it("a subnet in use by a NIC refuses deletion; a NIC attached to a VM too", async () => {
    const subnet = `${rg}/providers/Microsoft.Network/virtualNetworks/v1/subnets/s1`;
    const nic = `${rg}/providers/Microsoft.Network/networkInterfaces/n1`;
    const put = await call(
      e,
      "PUT",
      `${nic}?${V}`,
      {
        location: "westeurope",
        properties: { ipConfigurations: [{ name: "ip", properties: { subnet: { id: subnet } } }] },
      },
      token,
    );
    expect(put.status).toBe(201);
    expect(put.body.properties.ipConfigurations[0].properties.privateIPAddress).toBe("10.1.0.4");
    const del = await call(e, "DELETE", `${subnet}?${V}`, undefined, token);
    expect(del.status).toBe(400);
    expect(del.body.error.code).toBe("InUseSubnetCannotBeDeleted");
    now += 60_000;
    const vm = await call(
      e,
      "PUT",
      `${rg}/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2026-04-01`,
      {
        location: "westeurope",
        zones: ["1"],
        properties: {
          hardwareProfile: { vmSize: "Standard_D2s_v5" },
          storageProfile: {
            imageReference: {
              publisher: "Canonical",
              offer: "ubuntu-24_04-lts",
              sku: "server",
              version: "latest",
            },
          },
          osProfile: {
            computerName: "vm1",
            adminUsername: "k3sadmin",
            customData: Buffer.from("#cloud-config\n").toString("base64"),
            linuxConfiguration: {
              disablePasswordAuthentication: true,
              ssh: { publicKeys: [{ path: "/home/k3sadmin/.ssh/authorized_keys", keyData: "ssh-rsa AAAA" }] },
            },
          },
          networkProfile: { networkInterfaces: [{ id: nic }] },
        },
      },
      token,
    );
    expect(vm.status).toBe(201);
    expect(vm.body.properties.osProfile.customData).toBeUndefined();
    const nicDel = await call(e, "DELETE", `${nic}?${V}`, undefined, token);
    expect(nicDel.status).toBe(400);
    expect(nicDel.body.error.code).toBe("NicInUse");
  });

  it("deleting a resource group answers 202 with a Location that says 202 until it is gone, then 204", async () => {
    const del = await call(e, "DELETE", `${rg}?api-version=2025-04-01`, undefined, token);
    expect(del.status).toBe(202);
    const loc = del.headers.location!;
    expect(loc.startsWith(e.httpsUrl!)).toBe(true);
    expect((await call(e, "GET", loc, undefined, token)).status).toBe(202);
    now += 120_000;
    expect((await call(e, "GET", loc, undefined, token)).status).toBe(204);
    expect((await call(e, "GET", `${rg}?api-version=2025-04-01`, undefined, token)).body.error.code).toBe(
      "ResourceGroupNotFound",
    );
    expect(e.inventory({ cloud: "azure" })).toEqual([]);
  });

  it("an injected throttle is ARM's 429 TooManyRequests with Retry-After", async () => {
    e.addFault({ cloud: "azure", kind: "throttle", atCall: 1 });
    const r = await call(e, "GET", `${sub}/resourcegroups?api-version=2025-04-01`, undefined, token);
    expect(r.status).toBe(429);
    expect(r.headers["retry-after"]).toBe("1");
    expect(r.body.error.code).toBe("TooManyRequests");
    e.clearFaults();
  });
});

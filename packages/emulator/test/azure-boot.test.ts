/**
 * Boot diagnostics and the boot of a k3sinfra VM on the emulated Azure, over the wire: the VM takes and returns
 * `diagnosticsProfile`; `retrieveBootDiagnosticsData` hands out SAS URIs on the emulator that only a valid,
 * unexpired signature reads; the serial log carries the bootstrap's stage lines, `failBootstrap` fails one, and
 * the load balancer's probes follow the boot (up once `k3s-ready` passed). Time moves only when a test
 * advances the virtual clock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AZURE_TEST_CREDENTIALS, type Emulator, startEmulator, VirtualClock } from "../src/index.js";
import { type Answer, azureRequest, azureToken } from "./azure-helpers.js";

let e: Emulator;
let token = "";
const clock = new VirtualClock({ start: Date.UTC(2026, 0, 2, 3, 0, 0) });
const sub = `/subscriptions/${AZURE_TEST_CREDENTIALS.subscriptionId}`;
const rg = `${sub}/resourceGroups/boot`;
const NET = "api-version=2026-01-01";
const VMV = "api-version=2026-04-01";
const lbId = `${rg}/providers/Microsoft.Network/loadBalancers/lb`;
const vmId = (name: string) => `${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
/** core's bootstrap/stages.ts `BOOT_STAGE_PATTERN` (the emulator imports nothing of core). */
const STAGE_LINE =
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ k3sinfra-bootstrap: stage=([a-z0-9-]+) (start|waiting|ok|failed)(?:: (.*))?$/;

const call = (method: string, url: string, body?: unknown, auth = true) =>
  azureRequest(e, method, url, body, { token: auth ? token : undefined });

const vmBody = (name: string, customData: string, diagnostics?: object) => ({
  location: "westeurope",
  zones: ["1"],
  tags: { "k3sinfra:cluster": "boot", "k3sinfra:resource": name },
  properties: {
    hardwareProfile: { vmSize: "Standard_D2s_v5" },
    storageProfile: {
      imageReference: { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" },
    },
    osProfile: {
      computerName: name,
      adminUsername: "ubuntu",
      customData: Buffer.from(customData).toString("base64"),
      linuxConfiguration: {
        disablePasswordAuthentication: true,
        ssh: { publicKeys: [{ path: "/home/ubuntu/.ssh/authorized_keys", keyData: "ssh-rsa AAAA" }] },
      },
    },
    networkProfile: {
      networkInterfaces: [{ id: `${rg}/providers/Microsoft.Network/networkInterfaces/${name}` }],
    },
    ...(diagnostics ? { diagnosticsProfile: diagnostics } : {}),
  },
});

const K3SINFRA = "#cloud-config\nruncmd:\n  - [systemctl, start, k3sinfra-bootstrap.service]\n";

/** A NIC in the subnet and the LB's pool, then a VM on it; returns the VM's answer. */
async function makeVm(name: string, customData: string, diagnostics?: object) {
  const nic = await call("PUT", `${rg}/providers/Microsoft.Network/networkInterfaces/${name}?${NET}`, {
    location: "westeurope",
    properties: {
      ipConfigurations: [
        {
          name: "ip",
          properties: {
            subnet: { id: `${rg}/providers/Microsoft.Network/virtualNetworks/vn/subnets/nodes` },
            loadBalancerBackendAddressPools: [{ id: `${lbId}/backendAddressPools/pool` }],
          },
        },
      ],
    },
  });
  expect(nic.status).toBe(201);
  return call("PUT", `${vmId(name)}?${VMV}`, vmBody(name, customData, diagnostics));
}

const retrieve = (name: string, query = "") =>
  call("POST", `${vmId(name)}/retrieveBootDiagnosticsData?${VMV}${query}`);
const logUri = async (name: string, minutes = 5): Promise<string> => {
  const r = await retrieve(name, `&sasUriExpirationTimeInMinutes=${minutes}`);
  expect(r.status, r.text).toBe(200);
  return r.body.serialConsoleLogBlobUri as string;
};
const stages = (log: string) =>
  log
    .split("\n")
    .map((l) => STAGE_LINE.exec(l))
    .filter((m) => m !== null)
    .map((m) => `${m[1]} ${m[2]}${m[3] ? `: ${m[3]}` : ""}`);
const health = async (name: string) => {
  const r = await call("POST", `${lbId}/loadBalancingRules/r/health?${NET}`);
  expect(r.status, r.text).toBe(200);
  const nic = `${rg}/providers/Microsoft.Network/networkInterfaces/${name}/ipConfigurations/ip`.toLowerCase();
  return (r.body.loadBalancerBackendAddresses as Answer[]).find(
    (a) => String(a.networkInterfaceIPConfigurationId).toLowerCase() === nic,
  )?.state as string | undefined;
};
const SECOND = 1000;

beforeAll(async () => {
  e = await startEmulator({
    clouds: ["azure"],
    timeScale: 1,
    virtualClock: clock,
    seed: 21,
    log: () => undefined,
  });
  token = await azureToken(e);
  await call("PUT", `${rg}?api-version=2025-04-01`, { location: "westeurope" });
  await call("PUT", `${rg}/providers/Microsoft.Network/virtualNetworks/vn?${NET}`, {
    location: "westeurope",
    properties: {
      addressSpace: { addressPrefixes: ["10.7.0.0/16"] },
      subnets: [{ name: "nodes", properties: { addressPrefix: "10.7.0.0/24" } }],
    },
  });
  await call("PUT", `${rg}/providers/Microsoft.Network/publicIPAddresses/ip?${NET}`, {
    location: "westeurope",
    sku: { name: "Standard" },
    properties: { publicIPAllocationMethod: "Static" },
  });
  const lb = await call("PUT", `${lbId}?${NET}`, {
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
      probes: [
        { name: "p", properties: { protocol: "Tcp", port: 443, intervalInSeconds: 5, numberOfProbes: 2 } },
      ],
      loadBalancingRules: [
        {
          name: "r",
          properties: {
            frontendIPConfiguration: { id: `${lbId}/frontendIPConfigurations/fe` },
            backendAddressPool: { id: `${lbId}/backendAddressPools/pool` },
            probe: { id: `${lbId}/probes/p` },
            protocol: "Tcp",
            frontendPort: 443,
            backendPort: 443,
          },
        },
      ],
    },
  });
  expect(lb.status, lb.text).toBe(201);
});
afterAll(() => e?.stop());

describe("emulated Azure: boot diagnostics and the boot of a k3sinfra VM", () => {
  it("takes and returns diagnosticsProfile; without boot diagnostics retrieveBootDiagnosticsData is refused", async () => {
    const on = await makeVm("bd-on", "#cloud-config\n", { bootDiagnostics: { enabled: true } });
    expect(on.status, on.text).toBe(201);
    expect(on.body.properties.diagnosticsProfile).toEqual({ bootDiagnostics: { enabled: true } });
    const got = await call("GET", `${vmId("bd-on")}?${VMV}`);
    expect(got.body.properties.diagnosticsProfile).toEqual({ bootDiagnostics: { enabled: true } });
    const bad = await call(
      "PUT",
      `${vmId("bd-bad")}?${VMV}`,
      vmBody("bd-bad", "", { bootDiagnostics: { enabled: "yes" } }),
    );
    expect(bad.status).toBe(400);

    const off = await makeVm("bd-off", "#cloud-config\n");
    expect(off.status).toBe(201);
    expect(off.body.properties.diagnosticsProfile).toBeUndefined();
    const refused = await retrieve("bd-off");
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("OperationNotAllowed");
    // PATCH turns it on (what the provider's drift repair sends); the action then answers.
    const patched = await call("PATCH", `${vmId("bd-off")}?${VMV}`, {
      properties: { diagnosticsProfile: { bootDiagnostics: { enabled: true } } },
    });
    expect(patched.status, patched.text).toBe(200);
    expect((await retrieve("bd-off")).status).toBe(200);

    for (const minutes of ["0", "1441", "x"])
      expect((await retrieve("bd-on", `&sasUriExpirationTimeInMinutes=${minutes}`)).status, minutes).toBe(
        400,
      );
    const missing = await retrieve("nope");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("ResourceNotFound");
  });

  it("serves the serial log at its SAS URI only with a valid signature, until it expires", async () => {
    await makeVm("sas", K3SINFRA, { bootDiagnostics: { enabled: true } });
    const uri = await logUri("sas", 5);
    const url = new URL(uri);
    // On the host the client called, never a real storage account.
    expect(url.origin).toBe(e.httpsUrl);
    expect([...url.searchParams.keys()].sort()).toEqual(["se", "sig", "sp", "sr", "st", "sv"]);
    // Provisioning: nothing written yet.
    const early = await call("GET", uri, undefined, false);
    expect(early.status).toBe(404);
    expect(early.text).toContain("<Code>BlobNotFound</Code>");

    clock.advance(45 * SECOND + 60 * SECOND);
    const ok = await call("GET", uri, undefined, false);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain("Hypervisor detected: Microsoft Hyper-V");
    expect(stages(ok.text)).toEqual([
      "secrets start",
      "secrets ok",
      "metadata start",
      "metadata ok",
      "datastore start",
      "datastore ok",
      "k3s-install start",
    ]);

    const noSig = new URL(uri);
    noSig.searchParams.delete("sig");
    const forged = new URL(uri);
    forged.searchParams.set("se", "2099-01-01T00:00:00Z");
    const otherBlob = uri.replace("/sas.", "/other.");
    for (const [what, u] of [
      ["no signature", noSig.toString()],
      ["a later expiry", forged.toString()],
      ["another blob", otherBlob],
    ]) {
      const r = await call("GET", u!, undefined, false);
      expect(r.status, what).toBe(403);
      expect(r.text, what).toContain("<Code>AuthenticationFailed</Code>");
    }

    clock.advance(5 * 60 * SECOND);
    const expired = await call("GET", uri, undefined, false);
    expect(expired.status).toBe(403);
    expect(expired.text).toContain("Signature not valid in the specified time frame");
    // A fresh URI reads it again, now to the end of the boot.
    const fresh = await call("GET", await logUri("sas"), undefined, false);
    expect(fresh.status).toBe(200);
    expect(stages(fresh.text).at(-1)).toBe("done ok");
  });

  it("the probes follow the boot; failBootstrap holds a VM at a stage, logged, until cleared", async () => {
    await makeVm("k3s", K3SINFRA, { bootDiagnostics: { enabled: true } });
    await makeVm("plain", "#cloud-config\n", { bootDiagnostics: { enabled: true } });
    e.failBootstrap(vmId("k3s").toUpperCase(), "datastore", "cannot reach the datastore (timed out)");
    // Provisioned, then a probe round: the plain VM answers, the k3sinfra one has not even started K3s.
    clock.advance(45 * SECOND + 10 * SECOND);
    expect(await health("plain")).toBe("Up");
    expect(await health("k3s")).toBe("Down");
    // Long after a normal boot would have passed k3s-ready: still down, its log says why.
    clock.advance(10 * 60 * SECOND);
    expect(await health("k3s")).toBe("Down");
    const failing = stages((await call("GET", await logUri("k3s"), undefined, false)).text);
    expect(failing.at(-1)).toBe("datastore failed: cannot reach the datastore (timed out)");
    expect(failing).not.toContain("k3s-install start");

    e.clearBootstrapFault(vmId("k3s"));
    // systemd's next restart (at most 5 min away) passes the stage; K3s is ready a minute later.
    clock.advance(10 * 60 * SECOND);
    expect(await health("k3s")).toBe("Up");
    const log = stages((await call("GET", await logUri("k3s"), undefined, false)).text);
    expect(log).toContain("k3s-ready ok");
    expect(log.at(-1)).toBe("done ok");

    // A restart boots it again: down until K3s is ready once more.
    const restart = await call("POST", `${vmId("k3s")}/restart?${VMV}`);
    expect(restart.status).toBe(202);
    clock.advance(30 * SECOND);
    expect(await health("k3s")).toBe("Down");
    clock.advance(5 * 60 * SECOND);
    expect(await health("k3s")).toBe("Up");
  });

  it("bootFaults rules fail VMs by tags (names in any case), existing and created later", async () => {
    e.failBootstrap({ tags: { "K3SINFRA:RESOURCE": "tagged" } }, "k3s-install", "download failed");
    await makeVm("tagged", K3SINFRA, { bootDiagnostics: { enabled: true } });
    clock.advance(10 * 60 * SECOND);
    const log = stages((await call("GET", await logUri("tagged"), undefined, false)).text);
    expect(log.at(-1)).toBe("k3s-install failed: download failed");
    expect(await health("tagged")).toBe("Down");
    expect(() => e.failBootstrap(vmId("missing"), "datastore")).toThrow(/no instance/);
  });
});

/**
 * The node service's boot log on the emulator: VMs are created with boot diagnostics on, `bootLog` reads the
 * serial console through `retrieveBootDiagnosticsData` and its SAS URI (the emulator serves it, with the boot
 * script's stage lines), and the SAS URI goes nowhere else. Boot diagnostics turned off outside k3sinfra is
 * drift that `update` repairs. Time is the virtual clock's: it moves only while every client waits.
 */
import { type NetworkState, type NodeSpec, parseBootStages } from "@k3sinfra/core";
import { VirtualClock } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AzureNodeState } from "../src/services/nodes.js";
import { RawArm } from "./back-door.js";
import { isMutating } from "./crash-proxy.js";
import { type Harness, networkSpec, startHarness } from "./helpers.js";

const clock = new VirtualClock();
const poll = { minDelayMs: 2_000, maxDelayMs: 30_000, clock };
const V = "2026-04-01";
let h: Harness;
let network: NetworkState;
/** What the provider reported while reading logs: it must never carry the SAS URI. */
const reports: string[] = [];
const ctx = (resource: string) =>
  h.ctx(resource, {
    poll,
    report: (m: string) => {
      reports.push(m);
    },
  });

/** A k3sinfra server's user data: its custom data mentions the boot script, as core's does. */
const spec = (net: NetworkState, index = 0): NodeSpec => ({
  index,
  zone: "1",
  size: { vcpus: 2, memoryGiB: 8 },
  diskGiB: 40,
  image: "ubuntu-24.04",
  userData: "#!/bin/sh\nexec /usr/local/sbin/k3sinfra-bootstrap\n",
  userDataHash: "x",
  network: net,
});

/** A VM made with the raw ARM API (its own NIC), as a user or an earlier k3sinfra version would; its id. */
async function byHand(name: string, tags: Record<string, string>, diagnostics: boolean): Promise<string> {
  const arm = new RawArm(h.emulator);
  const rg = network.id.split("/providers/")[0]!;
  const nic = `${rg}/providers/Microsoft.Network/networkInterfaces/${name}-hand-nic`;
  const subnet = { id: network.subnets[0]!.id };
  const ip = { name: "ip", properties: { subnet } };
  const nicMade = await arm.call("PUT", nic, "2026-01-01", {
    location: "westeurope",
    properties: { ipConfigurations: [ip] },
  });
  expect(nicMade.status).toBe(201);
  const id = `${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
  const made = await arm.call("PUT", id, V, {
    location: "westeurope",
    tags,
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
        computerName: name,
        adminUsername: "ubuntu",
        linuxConfiguration: {
          disablePasswordAuthentication: true,
          ssh: { publicKeys: [{ path: "/home/ubuntu/.ssh/authorized_keys", keyData: "ssh-rsa AAAA" }] },
        },
      },
      networkProfile: { networkInterfaces: [{ id: nic }] },
      ...(diagnostics ? { diagnosticsProfile: { bootDiagnostics: { enabled: true } } } : {}),
    },
  });
  expect(made.status).toBe(201);
  return id;
}

const stageLines = (log: string | undefined) =>
  parseBootStages(log ?? "").map((s) => `${s.stage} ${s.event}${s.detail ? `: ${s.detail}` : ""}`);

beforeAll(async () => {
  h = await startHarness({ timeScale: 1, virtualClock: clock, seed: 31 }, "blg");
  network = await h.services().network!.create(networkSpec(), ctx("network"));
});
afterAll(() => h?.stop());

describe("Azure nodes: the boot log from boot diagnostics", () => {
  it("creates VMs with managed boot diagnostics; bootLog returns the serial log with the stage lines", async () => {
    const nodes = h.services().nodes!;
    const node = (await nodes.create(spec(network), ctx("node-0"))) as AzureNodeState;
    expect(node.bootDiagnostics).toBe(true);
    const vm = await new RawArm(h.emulator).call("GET", node.id, V);
    // Managed storage: no storageUri.
    expect((vm.body.properties as Record<string, unknown>).diagnosticsProfile).toEqual({
      bootDiagnostics: { enabled: true },
    });

    // Just booted: the kernel's lines, no stage yet.
    const early = await nodes.bootLog!(node, ctx("node-0"));
    expect(early).toContain("Linux version");
    expect(stageLines(early)).toEqual([]);
    await clock.sleep(3 * 60_000);
    const log = await nodes.bootLog!(node, ctx("node-0"));
    expect(stageLines(log)).toEqual([
      "secrets start",
      "secrets ok",
      "metadata start",
      "metadata ok",
      "datastore start",
      "datastore ok",
      "k3s-install start",
      "k3s-install ok",
      "k3s-ready start",
      "k3s-ready ok",
      "rancher-manifests start",
      "rancher-manifests ok",
      "kubeconfig start",
      "kubeconfig ok",
      "done ok",
    ]);
    // The SAS URI was used and dropped: not in what the provider reported, nor in the state.
    expect(reports.join("\n")).not.toMatch(/sig=|bootdiagnostics\//);
    expect(JSON.stringify(await nodes.read(node, ctx("node-0")))).not.toMatch(/sig=|bootdiagnostics\//);
  });

  it("is undefined while the VM has written nothing (the blob does not exist yet)", async () => {
    // A VM made by hand and still provisioning: time does not move while no one waits.
    const id = await byHand("by-hand", {}, true);
    const state = { id, name: "by-hand", zone: "1", privateIp: "", status: "starting", instanceType: "" };
    expect(await h.services().nodes!.bootLog!(state, ctx("by-hand"))).toBeUndefined();
  });

  it("a VM adopted without boot diagnostics (made by an earlier version, then a crash) gets it", async () => {
    const c = ctx("node-2");
    const id = await byHand(c.name, { ...c.tags }, false);
    const node = (await h.services().nodes!.create(spec(network, 2), c)) as AzureNodeState;
    expect(node.id.toLowerCase()).toBe(id.toLowerCase());
    expect(node.bootDiagnostics).toBe(true);
    expect(node.status).toBe("running");
  });

  it("boot diagnostics turned off outside k3sinfra: read shows it, bootLog says so, update turns it on again", async () => {
    const nodes = h.services().nodes!;
    const [node] = (await nodes.findByTags(
      { "k3sinfra:resource": "node-0" },
      ctx("node-0"),
    )) as AzureNodeState[];
    expect(node?.bootDiagnostics).toBe(true);
    const arm = new RawArm(h.emulator);
    const off = await arm.call("PATCH", node!.id, V, {
      properties: { diagnosticsProfile: { bootDiagnostics: { enabled: false } } },
    });
    expect(off.status).toBe(200);
    await clock.sleep(60_000);
    const drifted = (await nodes.read(node!, ctx("node-0"))) as AzureNodeState;
    expect(drifted.bootDiagnostics).toBe(false);
    const refused = await nodes.bootLog!(node!, ctx("node-0")).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(refused?.message).toContain(`az vm boot-diagnostics enable --ids ${node!.id}`);

    const repaired = (await nodes.update!(drifted, spec(network), ctx("node-0"))) as AzureNodeState;
    expect(repaired.bootDiagnostics).toBe(true);
    expect(repaired.status).toBe("running");
    expect(stageLines(await nodes.bootLog!(repaired, ctx("node-0"))).at(-1)).toBe("done ok");
    expect(reports.join("\n")).toContain("turning on boot diagnostics");
    expect(reports.join("\n")).not.toMatch(/sig=|bootdiagnostics\//);
  });

  it("the crash test does not count retrieveBootDiagnosticsData as a change: it only hands out SAS URIs", () => {
    const vm = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v";
    expect(
      isMutating(
        "POST",
        `${vm}/retrieveBootDiagnosticsData?api-version=${V}&sasUriExpirationTimeInMinutes=5`,
      ),
    ).toBe(false);
    expect(isMutating("POST", `${vm}/restart?api-version=${V}`)).toBe(true);
  });
});

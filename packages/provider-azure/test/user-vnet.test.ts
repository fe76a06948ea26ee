/**
 * A cluster in a VNet the user owns (`options.azure.virtualNetworkId`): preflight refuses what cannot work
 * before any call that changes something; `up` puts the nodes' NICs in the user's node subnet with k3sinfra's
 * NSG on each NIC and its MySQL NSG on the delegated subnet; `destroy` leaves the VNet and both subnets as they
 * were, and nothing carrying the cluster's tags. A config moving the live cluster to another VNet is refused.
 * On the emulator's virtual clock, over HTTPS, as the other Azure tests.
 */
import {
  type ClusterConfigInput,
  clusterTags,
  destroy,
  K3sinfraError,
  MemoryStateStore,
  ProviderRegistry,
  TAG_CLUSTER,
  up,
} from "@k3sinfra/core";
import { makeContext } from "@k3sinfra/core/testing";
import { type Emulator, VirtualClock } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AzureOptions, azure } from "../src/index.js";
import { RawArm } from "./back-door.js";
import { azureEnv, configInput, DNS_RG, networkSpec, startAzureEmulator, testConfig } from "./helpers.js";

const MYSQL = "Microsoft.DBforMySQL/flexibleServers";
/** An ARM body read loosely (each assertion checks the fields it cares about). */
// biome-ignore lint/suspicious/noExplicitAny: wire bodies of many shapes, checked field by field
type Wire = any;
let emulator: Emulator;
let env: Record<string, string>;
let arm: RawArm;
const clock = new VirtualClock();
beforeAll(async () => {
  emulator = await startAzureEmulator({
    timeScale: 1,
    virtualClock: clock,
    seed: 23,
    fixtures: {
      azure: {
        dnsZones: [{ zone: "example.com", resourceGroup: DNS_RG }],
        virtualNetworks: [
          {
            resourceGroup: "hub-net",
            name: "spoke",
            addressSpace: ["10.20.0.0/16"],
            subnets: [
              { name: "apps", addressPrefix: "10.20.0.0/24" },
              { name: "db", addressPrefix: "10.20.1.0/24", delegation: MYSQL },
              { name: "db2", addressPrefix: "10.20.3.0/24", delegation: MYSQL },
              { name: "web", addressPrefix: "10.20.2.0/24", delegation: "Microsoft.Web/serverFarms" },
            ],
          },
          {
            resourceGroup: "hub-net",
            name: "pods",
            addressSpace: ["10.42.0.0/16"],
            subnets: [
              { name: "apps", addressPrefix: "10.42.0.0/24" },
              { name: "db", addressPrefix: "10.42.1.0/24", delegation: MYSQL },
            ],
          },
          {
            resourceGroup: "hub-net",
            name: "east",
            location: "eastus",
            addressSpace: ["10.30.0.0/16"],
            subnets: [],
          },
        ],
      },
    },
  });
  env = azureEnv(emulator);
  arm = new RawArm(emulator);
});
afterAll(() => emulator?.stop());

const sub = () => `/subscriptions/${emulator.credentials.azure.subscriptionId}`;
const vnetId = (name: string) =>
  `${sub()}/resourceGroups/hub-net/providers/Microsoft.Network/virtualNetworks/${name}`;
const inVnet = (name = "spoke", extra: Partial<AzureOptions> = {}): AzureOptions => ({
  virtualNetworkId: vnetId(name),
  nodeSubnet: "apps",
  datastoreSubnet: "db",
  ...extra,
});

const preflight = (options: AzureOptions) => {
  const ctx = {
    config: testConfig("uvnet"),
    options,
    roles: ["network", "nodes", "datastore", "loadBalancer", "dns"] as const,
    env,
    baseDir: process.cwd(),
    operation: "up" as const,
  };
  return azure.preflight!(azure.services(ctx), ctx, new AbortController().signal).then(
    () => [],
    (e: unknown) => {
      if (!K3sinfraError.is(e, "InvalidConfig")) throw e;
      return (e as unknown as { issues: { path: string; message: string }[] }).issues;
    },
  );
};

describe("preflight of an existing VNet", () => {
  it("passes with the VNet in another resource group and its two subnets", async () => {
    expect(await preflight(inVnet())).toEqual([]);
  });

  it("refuses a missing VNet, a missing subnet, a delegated node subnet and an undelegated datastore subnet", async () => {
    const missing = await preflight(inVnet("nowhere"));
    expect(missing.map((i) => i.path)).toEqual(["options.azure.virtualNetworkId"]);
    expect(missing[0]?.message).toMatch(/^no virtual network .*\/virtualNetworks\/nowhere: create it/);
    const bad = await preflight(inVnet("spoke", { nodeSubnet: "web", datastoreSubnet: "apps" }));
    expect(bad.map((i) => `${i.path}: ${i.message.split(":")[0]}`)).toEqual([
      "options.azure.nodeSubnet: subnet 'web' is delegated to Microsoft.Web/serverFarms",
      `options.azure.datastoreSubnet: subnet 'apps' is not delegated to ${MYSQL}`,
    ]);
    const gone = await preflight(inVnet("spoke", { nodeSubnet: "nope" }));
    expect(gone.map((i) => i.path)).toEqual(["options.azure.nodeSubnet"]);
    expect(gone[0]?.message).toContain("(it has: apps, db, db2, web)");
  });

  it("refuses a VNet in another region and subnets inside K3s's pod network", async () => {
    const east = await preflight(inVnet("east"));
    expect(east.map((i) => i.message)).toContainEqual(
      expect.stringMatching(/^virtual network east is in eastus, the cluster in westeurope/),
    );
    const pods = await preflight(inVnet("pods"));
    expect(pods.map((i) => `${i.path} ${i.message.split(":")[0]}`)).toEqual([
      "options.azure.nodeSubnet subnet 'apps' (10.42.0.0/24) overlaps K3s's pod or service network 10.42.0.0/16",
      "options.azure.datastoreSubnet subnet 'db' (10.42.1.0/24) overlaps K3s's pod or service network 10.42.0.0/16",
    ]);
  });

  it("refuses a datastore subnet that carries someone else's NSG (k3sinfra would replace it)", async () => {
    const nsg = `${sub()}/resourceGroups/hub-net/providers/Microsoft.Network/networkSecurityGroups/theirs`;
    expect((await arm.call("PUT", nsg, "2024-05-01", { location: "westeurope" })).status).toBeLessThan(300);
    const subnet = `${vnetId("spoke")}/subnets/db2`;
    const before = (await arm.call("GET", subnet, "2024-05-01")).body;
    const props = before.properties as Record<string, unknown>;
    await arm.call("PUT", subnet, "2024-05-01", {
      properties: { ...props, networkSecurityGroup: { id: nsg } },
    });
    clock.advance(60_000);
    const issues = await preflight(inVnet("spoke", { datastoreSubnet: "db2" }));
    expect(issues.map((i) => i.path)).toEqual(["options.azure.datastoreSubnet"]);
    expect(issues[0]?.message).toMatch(
      /carries network security group theirs: k3sinfra .* does not replace another/,
    );
  });
});

const config = (name: string, azureOptions: AzureOptions): ClusterConfigInput =>
  configInput(name, {
    // The emulated flexible server has no database behind it here: skip the readiness check.
    datastore: { version: "8.0", deletionProtection: false, check: "off" },
    options: { azure: azureOptions },
  });

const coreOptions = (state: MemoryStateStore) => ({
  registry: new ProviderRegistry().register(azure),
  state,
  env,
  poll: { minDelayMs: 2_000, maxDelayMs: 30_000, clock },
});

/** The VNet and its subnets as ARM returns them. */
const snapshot = async () => {
  const vnet = (await arm.call("GET", vnetId("spoke"), "2024-05-01")).body;
  const subnet = async (n: string) =>
    (await arm.call("GET", `${vnetId("spoke")}/subnets/${n}`, "2024-05-01")).body;
  return { vnet, apps: await subnet("apps"), db: await subnet("db") };
};

describe("up and destroy in an existing VNet", () => {
  it("builds in the user's subnets, leaves them as they were after destroy, and refuses a move to another VNet", async () => {
    const name = "uvnet";
    const before = await snapshot();
    const state = new MemoryStateStore();
    await up(config(name, inVnet()), coreOptions(state));

    const mine = emulator.inventory({ cloud: "azure", tags: { [TAG_CLUSTER]: name } });
    // No VNet or subnet of k3sinfra's: the nodes' NICs are in the user's node subnet, with k3sinfra's NSG.
    expect(mine.some((i) => i.type.endsWith("/virtualNetworks"))).toBe(false);
    const nics = mine.filter((i) => i.type === "Microsoft.Network/networkInterfaces");
    expect(nics).toHaveLength(2);
    const nsgs = mine.filter((i) => i.type === "Microsoft.Network/networkSecurityGroups");
    const nodesNsg = nsgs.find((n) => n.name?.endsWith("-nodes"))?.id;
    const dbNsg = nsgs.find((n) => n.name?.endsWith("-db"))?.id;
    for (const nic of nics) {
      const body = (await arm.call("GET", nic.id, "2024-05-01")).body.properties as Wire;
      expect(body.networkSecurityGroup?.id).toBe(nodesNsg);
      expect(body.ipConfigurations[0].properties.subnet.id).toBe(`${vnetId("spoke")}/subnets/apps`);
      expect(body.ipConfigurations[0].properties.privateIPAddress).toMatch(/^10\.20\.0\./);
    }
    // The K3s ports on the node NSG are open from the user's node subnet only.
    const rules = (await arm.call("GET", nodesNsg!, "2024-05-01")).body.properties as Wire;
    const k3s = rules.securityRules.find((r: Wire) => r.properties.destinationPortRange === "6443");
    expect(k3s.properties.sourceAddressPrefix).toBe("10.20.0.0/24");
    // The MySQL server is in the delegated subnet, which carries k3sinfra's datastore NSG while the cluster lives.
    const during = await snapshot();
    expect((during.db.properties as Wire).networkSecurityGroup?.id).toBe(dbNsg);
    // The node subnet itself is not written to (same etag, no NSG); it lists the NICs in it, as Azure does.
    expect(during.apps.etag).toBe(before.apps.etag);
    expect((during.apps.properties as Wire).networkSecurityGroup).toBeUndefined();
    const server = mine.find((i) => i.type === MYSQL);
    const sv = (await arm.call("GET", server!.id, "2021-05-01")).body.properties as Wire;
    expect(sv.network.delegatedSubnetResourceId).toBe(`${vnetId("spoke")}/subnets/db`);
    // The server's private DNS zone is linked to the user's VNet.
    const links = mine.filter((i) => i.type === "Microsoft.Network/privateDnsZones/virtualNetworkLinks");
    expect(links).toHaveLength(1);
    const link = (await arm.call("GET", links[0]!.id, "2024-06-01")).body.properties as Wire;
    expect(link.virtualNetwork.id).toBe(vnetId("spoke"));

    // The NSG taken off the datastore subnet outside k3sinfra is drift: the next up puts it back.
    const { networkSecurityGroup: _ours, ...bare } = during.db.properties as Record<string, unknown>;
    await arm.call("PUT", `${vnetId("spoke")}/subnets/db`, "2024-05-01", { properties: bare });
    clock.advance(60_000);
    expect(((await snapshot()).db.properties as Wire).networkSecurityGroup).toBeUndefined();
    await up(config(name, inVnet()), coreOptions(state));
    expect(((await snapshot()).db.properties as Wire).networkSecurityGroup?.id).toBe(dbNsg);

    // So is the node NSG taken off a node's NIC: the NIC gets it back, its address and pool membership kept.
    const nic0 = (await arm.call("GET", nics[0]!.id, "2024-05-01")).body as Wire;
    const { networkSecurityGroup: _nsg, ...nicBare } = nic0.properties;
    await arm.call("PUT", nics[0]!.id, "2024-05-01", {
      location: nic0.location,
      tags: nic0.tags,
      properties: nicBare,
    });
    clock.advance(60_000);
    expect(
      ((await arm.call("GET", nics[0]!.id, "2024-05-01")).body as Wire).properties.networkSecurityGroup,
    ).toBeUndefined();
    await up(config(name, inVnet()), coreOptions(state));
    const nic0After = (await arm.call("GET", nics[0]!.id, "2024-05-01")).body as Wire;
    expect(nic0After.properties.networkSecurityGroup?.id).toBe(nodesNsg);
    expect(nic0After.properties.ipConfigurations[0].properties.privateIPAddress).toBe(
      nic0.properties.ipConfigurations[0].properties.privateIPAddress,
    );
    expect(nic0After.properties.ipConfigurations[0].properties.loadBalancerBackendAddressPools).toEqual(
      nic0.properties.ipConfigurations[0].properties.loadBalancerBackendAddressPools,
    );

    // One asking for k3sinfra's own VNet instead is refused, naming the option.
    const ids = () =>
      emulator
        .inventory({ cloud: "azure", tags: { [TAG_CLUSTER]: name } })
        .map((i) => i.id)
        .sort();
    const live = ids();
    const moved = await up(config(name, {}), coreOptions(state)).catch((e: unknown) => e);
    expect((moved as Error).message).toMatch(
      /options\.azure\.virtualNetworkId.*k3sinfra does not move a live cluster between virtual networks/s,
    );
    // Refused before anything changed: not half-migrated.
    expect(ids()).toEqual(live);

    await destroy(config(name, inVnet()), coreOptions(state));
    expect(emulator.inventory({ cloud: "azure", tags: { [TAG_CLUSTER]: name } })).toEqual([]);
    const after = await snapshot();
    // The VNet and the node subnet are untouched (same etags); the datastore subnet is as before, NSG off again
    // (its etag changed: it was written to twice, to put k3sinfra's NSG on and take it off).
    const strip = (r: Record<string, unknown>) => {
      const { etag: _etag, ...rest } = r;
      return rest;
    };
    const { subnets: subnetsAfter, ...vnetAfter } = after.vnet.properties as Record<string, unknown>;
    const { subnets: subnetsBefore, ...vnetBefore } = before.vnet.properties as Record<string, unknown>;
    expect({ ...after.vnet, properties: vnetAfter }).toEqual({ ...before.vnet, properties: vnetBefore });
    expect((subnetsAfter as Record<string, unknown>[]).map(strip)).toEqual(
      (subnetsBefore as Record<string, unknown>[]).map(strip),
    );
    expect(after.apps).toEqual(before.apps);
    expect(strip(after.db)).toEqual(strip(before.db));
  });
});

describe("a cluster in k3sinfra's own VNet", () => {
  it("is not moved into a user's VNet: read and update refuse, naming the option; delete still works from the state", async () => {
    const services = (options: AzureOptions) =>
      azure.services({
        config: testConfig("ownnet"),
        options,
        roles: ["network"],
        env,
        baseDir: process.cwd(),
      }).network!;
    const ctx = {
      ...makeContext({ cluster: "ownnet", resource: "network", region: "westeurope", lineage: "l" }),
      poll: { minDelayMs: 2_000, maxDelayMs: 30_000, clock },
    };
    const state = await services({}).create(networkSpec(), ctx);
    const moved = services(inVnet());
    await expect(moved.read(state, ctx)).rejects.toThrow(
      /options\.azure\.virtualNetworkId: the cluster lives in its own virtual network .*k3sinfra does not move a live cluster/,
    );
    await expect(moved.update!(state, networkSpec(), ctx)).rejects.toThrow(/does not move a live cluster/);
    await moved.delete(state, ctx);
    expect(emulator.inventory({ cloud: "azure", tags: { [TAG_CLUSTER]: "ownnet" } })).toEqual([]);
  });
});

describe("a crash's leftovers in a user's VNet", () => {
  it("a lone datastore NSG still on the user's subnet is found by its tags, taken off and deleted", async () => {
    const svc = azure.services({
      config: testConfig("leftvn"),
      options: inVnet("spoke", { datastoreSubnet: "db2" }),
      roles: ["network"],
      env,
      baseDir: process.cwd(),
    }).network!;
    const ctx = {
      ...makeContext({ cluster: "leftvn", resource: "network", region: "westeurope", lineage: "l" }),
      poll: { minDelayMs: 2_000, maxDelayMs: 30_000, clock },
    };
    const db2 = `${vnetId("spoke")}/subnets/db2`;
    // db2 carries another NSG since the preflight case above: give it back bare first.
    const { networkSecurityGroup: _theirs, ...bare } = (await arm.call("GET", db2, "2024-05-01")).body
      .properties as Record<string, unknown>;
    await arm.call("PUT", db2, "2024-05-01", { properties: bare });
    clock.advance(60_000);
    const before = (await arm.call("GET", db2, "2024-05-01")).body;
    const state = await svc.create(networkSpec(), ctx);
    // The crash: the node NSG is gone (deleted, say, by an interrupted destroy), the state with it.
    expect((await arm.call("DELETE", state.id, "2024-05-01")).status).toBeLessThan(300);
    clock.advance(60_000);
    const found = await svc.findByTags(clusterTags("leftvn"), ctx);
    expect(found.map((s) => s.id)).toEqual([state.id]);
    await svc.delete(found[0]!, ctx);
    expect(emulator.inventory({ cloud: "azure", tags: { [TAG_CLUSTER]: "leftvn" } })).toEqual([]);
    const after = (await arm.call("GET", db2, "2024-05-01")).body;
    const { etag: _a, ...a } = after;
    const { etag: _b, ...b } = before;
    expect(a).toEqual(b);
    expect((await arm.call("GET", vnetId("spoke"), "2024-05-01")).status).toBe(200);
  });
});

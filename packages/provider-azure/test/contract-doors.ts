import { type ContractBackDoors, runProviderContract } from "@k3sinfra/core/testing";
import type { Emulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, it } from "vitest";
import { azure } from "../src/index.js";
import { RawArm } from "./back-door.js";
import { azureEnv, REGION, ZONES } from "./helpers.js";

// The conformance suite's back doors into the emulator, shared by its runs (own VNet, a user's VNet).
const OWNERSHIP = new Set([
  "k3sinfra:cluster",
  "k3sinfra:resource",
  "k3sinfra:managed-by",
  "k3sinfra:cluster-id",
]);

/**
 * The back doors: the emulator's own inventory and its raw ARM API, never the provider under test. A VM's
 * status is its power state, as the instance view shows it.
 */
export const backDoors = (e: Emulator): ContractBackDoors => {
  const arm = new RawArm(e);
  const item = (id: string) =>
    e.inventory({ cloud: "azure" }).find((i) => i.id.toLowerCase() === id.toLowerCase());
  return {
    // A NIC attached to a VM is part of the node (deleted with it): the node is one object, as on EC2.
    async owned(tags) {
      const ids: string[] = [];
      for (const i of e.inventory({ cloud: "azure", tags: { ...tags } })) {
        if (i.type === "Microsoft.Network/networkInterfaces") {
          const nic = await arm.call("GET", i.id, "2026-01-01");
          if ((nic.body.properties as { virtualMachine?: unknown }).virtualMachine) continue;
        }
        ids.push(i.id);
      }
      return ids;
    },
    async status(id) {
      const found = item(id);
      if (found?.type !== "Microsoft.Compute/virtualMachines") return found?.state;
      const vm = await arm.call("GET", id, "2026-04-01");
      const view = (vm.body.properties as { instanceView?: { statuses?: { code: string }[] } }).instanceView;
      return view?.statuses?.find((s) => s.code.startsWith("PowerState/"))?.code.split("/")[1];
    },
    async record(state) {
      const zone = state.zoneId;
      const name = state.hostname.slice(0, -(zone.split("/").at(-1)!.length + 1));
      const r = await arm.call("GET", `${zone}/A/${name}`, "2018-05-01");
      if (r.status !== 200) return undefined;
      const p = r.body.properties as { ARecords?: { ipv4Address: string }[] };
      // Azure DNS has no propagation state to wait for: a record set is served once written.
      return { type: "A", values: (p.ARecords ?? []).map((a) => a.ipv4Address), inSync: true };
    },
    async targets(lb) {
      const r = await arm.call("GET", lb.id, "2026-01-01");
      type Pool = { properties: { backendIPConfigurations?: { id: string }[] } };
      const pool = ((r.body.properties as { backendAddressPools?: Pool[] }).backendAddressPools ?? [])[0];
      const vms: string[] = [];
      for (const c of pool?.properties.backendIPConfigurations ?? []) {
        const nic = await arm.call("GET", c.id.split("/ipConfigurations/")[0]!, "2026-01-01");
        const vm = (nic.body.properties as { virtualMachine?: { id: string } }).virtualMachine;
        if (vm) vms.push(vm.id);
      }
      return vms;
    },
    async published(node) {
      const tags = item(node.id)?.tags ?? {};
      return Object.fromEntries(
        Object.entries(tags)
          .filter(([k]) => k.startsWith("k3sinfra:") && !OWNERSHIP.has(k) && k !== "k3sinfra:zones")
          .map(([k, v]) => [k.slice("k3sinfra:".length), v]),
      );
    },
    drift: {
      async stopNode(node) {
        await arm.call("POST", `${node.id}/powerOff`, "2026-04-01");
      },
      async addIngressRule(network) {
        await arm.call("PUT", `${network.groups.nodes}/securityRules/ssh-from-anywhere`, "2026-01-01", {
          properties: {
            protocol: "Tcp",
            access: "Allow",
            direction: "Inbound",
            priority: 300,
            sourcePortRange: "*",
            destinationPortRange: "22",
            sourceAddressPrefix: "*",
            destinationAddressPrefix: "*",
          },
        });
      },
    },
  };
};

/**
 * Core's conformance suite on one emulator (`start` runs once, on first use: the adoption cases build a second
 * harness, a "fresh process", that must see what the first one made), with these back doors.
 */
export function runAzureContract(
  name: string,
  start: () => Promise<Emulator>,
  options?: Record<string, unknown>,
): void {
  let emulator: Promise<Emulator> | undefined;
  const shared = () => {
    emulator ??= start();
    return emulator;
  };
  let doors: ContractBackDoors | undefined;
  const door = async () => {
    doors ??= backDoors(await shared());
    return doors;
  };
  runProviderContract({
    describe,
    it,
    beforeAll,
    afterAll,
    name,
    provider: azure,
    ...(options ? { options } : {}),
    // The services follow from the provider's capabilities.
    env: async () => azureEnv(await shared()),
    region: REGION,
    zones: [...ZONES],
    dns: { zone: "example.com" },
    // ARM's words: a load balancer is ready when provisioned.
    readyStatus: { loadBalancer: ["succeeded"], datastore: ["ready"] },
    poll: { minDelayMs: 5, maxDelayMs: 50 },
    owned: async (tags) => (await door()).owned(tags),
    status: async (id) => (await door()).status?.(id),
    record: async (state) => (await door()).record?.(state),
    targets: async (lb) => (await door()).targets?.(lb) ?? [],
    published: async (node) => (await door()).published?.(node) ?? {},
    drift: {
      stopNode: async (node) => (await door()).drift?.stopNode?.(node),
      addIngressRule: async (network) => (await door()).drift?.addIngressRule?.(network),
    },
    close: async () => (await emulator)?.stop(),
  });
}

import { FirewallsClient, InstancesClient } from "@google-cloud/compute";
import { type ContractBackDoors, runProviderContract } from "@k3sinfra/core/testing";
import type { Emulator } from "@k3sinfra/emulator";
import { GoogleAuth } from "google-auth-library";
import { afterAll, beforeAll, describe, it } from "vitest";
import { gcp } from "../src/index.js";
import { carries, PROJECT, REGION, startGcp, ZONES } from "./helpers.js";

/** The raw compute clients against the emulator: the back door for what the inventory does not show. */
const rawClients = (e: Emulator, keyFilename: string) => {
  const url = new URL(e.url);
  const opts = {
    apiEndpoint: url.hostname,
    port: Number(url.port),
    protocol: "http",
    auth: new GoogleAuth({ keyFilename }),
  };
  return { instances: new InstancesClient(opts), firewalls: new FirewallsClient(opts) };
};

const parts = (id: string) => {
  const [, project, , zone, , instance] = id.split("/");
  return { project: project!, zone: zone!, instance: instance! };
};

const backDoors = (e: Emulator, keyFile: string): ContractBackDoors => {
  const raw = rawClients(e, keyFile);
  return {
    owned: async (tags) =>
      e
        .inventory({ cloud: "gcp" })
        .filter((i) => carries(i, tags))
        .map((i) => i.id),
    status: async (id) => e.inventory({ cloud: "gcp" }).find((i) => i.id === id)?.state,
    async published(node) {
      const [instance] = await raw.instances.get(parts(node.id));
      return Object.fromEntries(
        (instance.metadata?.items ?? [])
          .filter((i) => i.key?.startsWith("k3sinfra-"))
          .map((i) => [i.key!.slice("k3sinfra-".length), i.value ?? ""]),
      );
    },
    drift: {
      async stopNode(node) {
        await raw.instances.stop(parts(node.id));
      },
      async addIngressRule(network) {
        await raw.firewalls.insert({
          project: PROJECT,
          firewallResource: {
            name: `drift-ssh-${network.groups.nodes}`.slice(0, 63),
            network: network.networkId,
            targetTags: [network.groups.nodes],
            allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
            sourceRanges: ["0.0.0.0/0"],
          },
        });
      },
    },
  };
};

// One emulator for the suite, started on first use; every set of services the suite builds reads this env.
let emulator: Emulator | undefined;
let env: Record<string, string> | undefined;
const cloud = async () => {
  if (!emulator) ({ emulator, env } = await startGcp(11));
  return { emulator, env: env! };
};
const doors = async () => {
  const { emulator: e, env: vars } = await cloud();
  return backDoors(e, vars.GOOGLE_APPLICATION_CREDENTIALS!);
};

runProviderContract({
  describe,
  it,
  beforeAll,
  afterAll,
  provider: gcp,
  name: "gcp (emulator)",
  env: async () => (await cloud()).env,
  region: REGION,
  zones: [...ZONES],
  toggles: { loadBalancer: false, dns: false },
  poll: { minDelayMs: 5, maxDelayMs: 50 },
  // Cloud SQL says RUNNABLE where the contract says available.
  readyStatus: { datastore: ["available", "runnable"] },
  owned: async (tags) => (await doors()).owned(tags),
  status: async (id) => (await doors()).status?.(id),
  published: async (node) => (await doors()).published!(node),
  drift: {
    stopNode: async (node) => (await doors()).drift!.stopNode!(node),
    addIngressRule: async (network) => (await doors()).drift!.addIngressRule!(network),
  },
  close: async () => {
    await emulator?.stop();
  },
});

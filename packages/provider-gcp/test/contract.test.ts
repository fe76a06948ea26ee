import { FirewallsClient, InstancesClient } from "@google-cloud/compute";
import { type ContractHarness, runProviderContract } from "@k3sinfra/core/testing";
import type { Emulator } from "@k3sinfra/emulator";
import { GoogleAuth } from "google-auth-library";
import { afterAll, beforeAll, describe, it } from "vitest";
import { gcp } from "../src/index.js";
import { carries, PROJECT, REGION, ROLES, startGcp, testConfig, ZONES } from "./helpers.js";

// One emulator for the suite: the adoption cases build a second harness (a "fresh process").
let started: ReturnType<typeof startGcp> | undefined;
const shared = () => (started ??= startGcp(11));
let harnesses = 0;

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

const backDoors = (e: Emulator, keyFile: string): Omit<ContractHarness, "services"> => {
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

runProviderContract({
  describe,
  it,
  beforeAll,
  afterAll,
  name: "gcp (emulator)",
  region: REGION,
  zones: [...ZONES],
  toggles: { datastore: false, loadBalancer: false, dns: false },
  poll: { minDelayMs: 5, maxDelayMs: 50 },
  harness: async () => {
    const { emulator, env } = await shared();
    const services = gcp.services({
      config: testConfig("contract"),
      baseDir: process.cwd(),
      options: {},
      roles: ROLES,
      env,
    });
    const main = harnesses++ === 0;
    return {
      services,
      ...backDoors(emulator, env.GOOGLE_APPLICATION_CREDENTIALS!),
      close: async () => {
        if (main) await emulator.stop();
      },
    };
  },
});

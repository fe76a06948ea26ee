import { readFileSync } from "node:fs";
import {
  BackendServicesClient,
  FirewallsClient,
  InstanceGroupsClient,
  InstancesClient,
  RegionBackendServicesClient,
} from "@google-cloud/compute";
import { type ContractBackDoors, runProviderContract } from "@k3sinfra/core/testing";
import type { Emulator } from "@k3sinfra/emulator";
import { JWT } from "google-auth-library";
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
    authClient: (() => {
      const key = JSON.parse(readFileSync(keyFilename, "utf8")) as {
        client_email: string;
        private_key: string;
      };
      return new JWT({ email: key.client_email, key: key.private_key });
    })(),
  };
  return {
    instances: new InstancesClient(opts),
    firewalls: new FirewallsClient(opts),
    groups: new InstanceGroupsClient(opts),
    regional: new RegionBackendServicesClient(opts),
    global: new BackendServicesClient(opts),
  };
};

/** Whether a forwarding rule leads to the backend service: directly (L4), or through a proxy's URL map (L7). */
async function serves(e: Emulator, id: string): Promise<boolean> {
  const get = async (path: string) =>
    (await (
      await fetch(`${e.url}/compute/v1/${path}`, { headers: { authorization: "Bearer back-door" } })
    ).json()) as { items?: Record<string, string>[]; defaultService?: string; urlMap?: string };
  const tail = (url = "") => url.replace(/^.*\/compute\/v1\//, "");
  const [, project, scope, region] = id.split("/");
  if (scope === "regions")
    return ((await get(`projects/${project}/regions/${region}/forwardingRules`)).items ?? []).some(
      (r) => tail(r.backendService) === id,
    );
  for (const rule of (await get(`projects/${project}/global/forwardingRules`)).items ?? []) {
    const proxy = await get(tail(rule.target));
    if (tail((await get(tail(proxy.urlMap))).defaultService) === id) return true;
  }
  return false;
}

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
    async status(id) {
      const state = e.inventory({ cloud: "gcp" }).find((i) => i.id === id)?.state;
      // A backend service has no status of its own: the balancer serves once a forwarding rule leads to it.
      return id.includes("/backendServices/") && state
        ? (await serves(e, id))
          ? "active"
          : "incomplete"
        : state;
    },
    async targets(lb) {
      // The balancer's backend service (regional L4, global L7), its instance groups, their members.
      const [, project, scope, region, , name] = lb.id.split("/");
      const [bs] =
        scope === "regions"
          ? await raw.regional.get({ project: project!, region: region!, backendService: name! })
          : await raw.global.get({ project: project!, backendService: lb.id.split("/").pop()! });
      const ids: string[] = [];
      for (const b of bs.backends ?? []) {
        const [, , , zone, , group] = (b.group ?? "").replace(/^.*\/compute\/v1\//, "").split("/");
        const [items] = await raw.groups.listInstances({
          project: PROJECT,
          zone: zone!,
          instanceGroup: group!,
          instanceGroupsListInstancesRequestResource: {},
        });
        ids.push(...items.map((i) => (i.instance ?? "").replace(/^.*\/compute\/v1\//, "")));
      }
      return ids;
    },
    async record(state) {
      const res = await fetch(
        `${e.url}/dns/v1/projects/${PROJECT}/managedZones/${state.zoneId}/rrsets?name=${state.hostname}.`,
        { headers: { authorization: "Bearer back-door" } },
      );
      const { rrsets = [] } = (await res.json()) as { rrsets?: { type: string; rrdatas: string[] }[] };
      const set = rrsets.find((r) => r.type === "A" || r.type === "CNAME");
      if (!set) return undefined;
      const item = e
        .inventory({ cloud: "gcp" })
        .find(
          (i) =>
            i.type === "resource-record-set" && i.id === `${state.zoneId}/${state.hostname}./${set.type}`,
        );
      return {
        type: set.type,
        values: set.rrdatas.map((v) => v.replace(/\.$/, "")),
        inSync: item?.state === "done",
      };
    },
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
  dns: { zone: "example.com" },
  poll: { minDelayMs: 5, maxDelayMs: 50 },
  // Cloud SQL says RUNNABLE where the contract says available.
  readyStatus: { datastore: ["available", "runnable"] },
  owned: async (tags) => (await doors()).owned(tags),
  status: async (id) => (await doors()).status?.(id),
  published: async (node) => (await doors()).published!(node),
  targets: async (lb) => (await doors()).targets!(lb),
  record: async (state) => (await doors()).record!(state),
  drift: {
    stopNode: async (node) => (await doors()).drift!.stopNode!(node),
    addIngressRule: async (network) => (await doors()).drift!.addIngressRule!(network),
  },
  close: async () => {
    await emulator?.stop();
  },
});

import { firewallRules, type NetworkState, type NodeState, Secret, type ServiceKind } from "@k3sinfra/core";
import { makeContext } from "@k3sinfra/core/testing";
import type { Emulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runShell, type ShellResult } from "../../../test/support/run-shell.js";
import { type GcpServices, gcp, gcpSecretReader } from "../src/index.js";
import { PROJECT, REGION, startGcp, testConfig, ZONES } from "./helpers.js";

const ROLES: readonly ServiceKind[] = ["network", "nodes", "secretStore"];

/**
 * Runs the node-side functions as the node's boot script would, against the emulator's metadata server. Async:
 * the emulator answers from this process.
 */
function onNode(e: Emulator, node: NodeState, script: string, stdin = ""): Promise<ShellResult> {
  const [, project, , zone, , name] = node.id.split("/");
  return runShell(
    `${gcpSecretReader.functions}\n${script}`,
    { K3SINFRA_GCP_METADATA_URL: `${e.url}/gce/${project}/${zone}/${name}`, K3SINFRA_GCP_SECRETS_URL: e.url },
    stdin,
  );
}

describe("secret store and node identity (Secret Manager, a service account per cluster)", () => {
  let e: Emulator;
  let env: Record<string, string>;
  const make = (cluster: string): GcpServices =>
    gcp.services({ config: testConfig(cluster), options: {}, roles: ROLES, env, baseDir: process.cwd() });
  const ctx = (cluster: string, resource: string) => makeContext({ cluster, resource, region: REGION });
  let node: NodeState;
  let network: NetworkState;

  beforeAll(async () => {
    ({ emulator: e, env } = await startGcp(3));
    const s = make("alpha");
    network = await s.network!.create(
      {
        zones: [...ZONES],
        rules: firewallRules({ mode: "l4", clientCidrs: ["0.0.0.0/0"], adminCidrs: [], ssh: false }),
      },
      ctx("alpha", "network"),
    );
    await s.secretStore!.create(
      {
        values: {
          "k3s-token": new Secret("token-alpha-123"),
          "datastore-admin-password": new Secret("Admin123abc"),
        },
      },
      ctx("alpha", "secrets"),
    );
    node = await s.nodes!.create(
      {
        index: 0,
        zone: ZONES[0],
        size: { vcpus: 2, memoryGiB: 4 },
        diskGiB: 30,
        image: "ubuntu-24.04",
        userData: "#cloud-config\n",
        userDataHash: "x",
        network,
      },
      ctx("alpha", "node-0"),
    );
    // Another cluster's secret, which alpha's nodes must not read.
    await make("bravo").secretStore!.create(
      { values: { "k3s-token": new Secret("token-bravo-456") } },
      ctx("bravo", "secrets"),
    );
  });
  afterAll(() => e.stop());

  it("the network made the cluster's service account, and the node runs as it", () => {
    expect(network.nodeIdentity).toBe(`k3s-alpha@${PROJECT}.iam.gserviceaccount.com`);
    expect(
      e
        .inventory({ cloud: "gcp" })
        .some((i) => i.type === "service-account" && i.id === network.nodeIdentity),
    ).toBe(true);
  });

  it("a node reads its cluster's secret with its own identity, and not another cluster's", async () => {
    const store = make("alpha").secretStore!;
    const own = await onNode(e, node, `k3sinfra_secret '${store.nameOf("alpha", "k3s-token")}'`);
    expect(own).toMatchObject({ status: 0, out: "token-alpha-123" });
    const other = await onNode(e, node, `k3sinfra_secret '${store.nameOf("bravo", "k3s-token")}'`);
    expect(other.status).toBe(1);
    expect(other.out).toBe("");
    expect(other.err).toMatch(/HTTP 403/);
  });

  it("server 0 stores its kubeconfig; the admin password goes once it exists; reveal reads it back", async () => {
    const store = make("alpha").secretStore!;
    const put = await onNode(
      e,
      node,
      `k3sinfra_secret_put '${store.nameOf("alpha", "kubeconfig")}'`,
      "apiVersion: v1\nkind: Config\n",
    );
    expect(put).toMatchObject({ status: 0 });
    // The node may add a kubeconfig version, not read it back, and may not write its token.
    expect((await onNode(e, node, `k3sinfra_secret '${store.nameOf("alpha", "kubeconfig")}'`)).status).toBe(
      1,
    );
    const write = await onNode(
      e,
      node,
      `k3sinfra_secret_put '${store.nameOf("alpha", "k3s-token")}'`,
      "evil",
    );
    expect(write.status).toBe(1);
    const state = await store.create(
      {
        values: {
          "k3s-token": new Secret("token-alpha-123"),
          "datastore-admin-password": new Secret("Admin123abc"),
        },
        until: { "datastore-admin-password": "kubeconfig" },
      },
      ctx("alpha", "secrets"),
    );
    expect(state.nodeWritten?.kubeconfig).toBe("1");
    expect(state.names["datastore-admin-password"]).toBeUndefined();
    expect((await store.reveal("kubeconfig", ctx("alpha", "secrets")))?.reveal()).toBe(
      "apiVersion: v1\nkind: Config\n",
    );
    expect(
      e.inventory({ cloud: "gcp" }).some((i) => i.id.endsWith("/k3sinfra-alpha-datastore-admin-password")),
    ).toBe(false);
    // An unchanged value adds no version.
    expect(state.versions["k3s-token"]).toBe("1");
  });

  it("destroy removes the cluster's secrets and its service account, and leaves the other cluster's", async () => {
    const s = make("alpha");
    await s.secretStore!.delete({ id: "k3sinfra-alpha-", names: {}, versions: {} }, ctx("alpha", "secrets"));
    await s.nodes!.delete(node, ctx("alpha", "node-0"));
    await s.network!.delete(network, ctx("alpha", "network"));
    const left = e.inventory({ cloud: "gcp" }).map((i) => i.id);
    expect(left.filter((id) => id.includes("alpha"))).toEqual([]);
    expect(left).toContain(`projects/${PROJECT}/secrets/k3sinfra-bravo-k3s-token`);
  });
});

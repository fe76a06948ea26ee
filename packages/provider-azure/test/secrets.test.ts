import { request } from "node:https";
import { type NetworkState, type NodeState, Secret, type ServiceKind } from "@k3sinfra/core";
import { makeContext } from "@k3sinfra/core/testing";
import type { Emulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runShell, type ShellResult } from "../../../test/support/run-shell.js";
import { type AzureServices, azure, azureSecretReader, identityName, vaultNameOf } from "../src/index.js";
import { RawArm } from "./back-door.js";
import { azureEnv, networkSpec, REGION, startAzureEmulator, testConfig, ZONES } from "./helpers.js";

const ROLES: readonly ServiceKind[] = ["network", "nodes", "secretStore"];

/**
 * Runs the node-side functions as the node's boot script would: against the emulator's IMDS for this VM and
 * its Key Vault data plane, with the emulator's CA (asynchronously: the emulator answers from this process).
 */
function onNode(
  e: Emulator,
  env: Record<string, string>,
  vmId: string,
  script: string,
  stdin = "",
): Promise<ShellResult> {
  return runShell(
    `${azureSecretReader.functions}\n${script}`,
    {
      K3SINFRA_AZURE_IMDS_URL: `${e.url}/azure-imds/${vmId}`,
      K3SINFRA_AZURE_VAULT_URL: `${e.endpoints.azure}/keyvault`,
      CURL_CA_BUNDLE: env.AZURE_CA_FILE ?? "",
    },
    stdin,
  );
}

describe("secret store and node identity (a Key Vault and a managed identity per cluster)", () => {
  let e: Emulator;
  let env: Record<string, string>;
  let arm: RawArm;
  const make = (cluster: string): AzureServices =>
    azure.services({ config: testConfig(cluster), options: {}, roles: ROLES, env, baseDir: process.cwd() });
  const ctx = (cluster: string, resource: string) =>
    makeContext({ cluster, resource, region: REGION, poll: { minDelayMs: 5, maxDelayMs: 50 } });
  const vault = (cluster: string) => vaultNameOf(env.AZURE_SUBSCRIPTION_ID!, `k3sinfra-${cluster}`, cluster);
  let node: NodeState;
  let network: NetworkState;
  let vmId: string;
  const values = {
    "k3s-token": new Secret("token-alpha-123"),
    "datastore-admin-password": new Secret("Admin123abc"),
  };

  beforeAll(async () => {
    e = await startAzureEmulator({ seed: 21 });
    env = azureEnv(e);
    arm = new RawArm(e);
    const s = make("alpha");
    network = await s.network!.create(networkSpec(), ctx("alpha", "network"));
    await s.secretStore!.create({ values }, ctx("alpha", "secrets"));
    node = await s.nodes!.create(
      {
        index: 0,
        zone: ZONES[0],
        size: { vcpus: 2, memoryGiB: 8 },
        diskGiB: 40,
        image: "ubuntu-24.04",
        userData: "#cloud-config\n",
        userDataHash: "x",
        network,
      },
      ctx("alpha", "node-0"),
    );
    vmId = ((await arm.call("GET", node.id, "2026-04-01")).body.properties as { vmId: string }).vmId;
    // Another cluster's vault, which alpha's nodes must not read.
    await make("bravo").secretStore!.create(
      { values: { "k3s-token": new Secret("token-bravo-456") } },
      ctx("bravo", "secrets"),
    );
  });
  afterAll(() => e?.stop());

  it("the network made the cluster's managed identity, and the VM runs as it", async () => {
    expect(network.nodeIdentity).toMatch(new RegExp(`/userAssignedIdentities/${identityName("alpha")}$`));
    const vm = await arm.call("GET", node.id, "2026-04-01");
    const identity = vm.body.identity as { type: string; userAssignedIdentities: Record<string, unknown> };
    expect(identity.type).toBe("UserAssigned");
    expect(Object.keys(identity.userAssignedIdentities)).toEqual([network.nodeIdentity]);
  });

  it("the vault is in RBAC mode with soft delete and no purge protection; names fit Azure's rules", async () => {
    const name = vault("alpha");
    expect(name).toMatch(/^[a-z][a-z0-9-]{1,22}[a-z0-9]$/);
    expect(name).not.toContain("--");
    const long = vaultNameOf(env.AZURE_SUBSCRIPTION_ID!, "rg", "a-very-long-cluster-name-indeed");
    expect(long.length).toBeLessThanOrEqual(24);
    const v = e
      .inventory({ cloud: "azure" })
      .find((i) => i.type === "Microsoft.KeyVault/vaults" && i.name === name);
    const r = await arm.call("GET", v!.id, "2026-02-01");
    expect(r.body.properties).toMatchObject({
      enableRbacAuthorization: true,
      enableSoftDelete: true,
      softDeleteRetentionInDays: 7,
    });
    expect((r.body.properties as Record<string, unknown>).enablePurgeProtection).toBeUndefined();
    expect(v!.tags["k3sinfra:cluster"]).toBe("alpha");
  });

  it("create is idempotent: an unchanged value adds no version", async () => {
    const store = make("alpha").secretStore!;
    const a = await store.create({ values }, ctx("alpha", "secrets"));
    const b = await store.create({ values }, ctx("alpha", "secrets"));
    expect(b.versions).toEqual(a.versions);
    expect(b.names["k3s-token"]).toBe(`${vault("alpha")}/k3s-token`);
    expect(await store.read(b, ctx("alpha", "secrets"))).toMatchObject({ versions: b.versions });
    expect((await store.reveal("k3s-token", ctx("alpha", "secrets")))?.reveal()).toBe("token-alpha-123");
  });

  it("a node reads its cluster's secret with its managed identity, and not another cluster's", async () => {
    const store = make("alpha").secretStore!;
    const own = await onNode(e, env, vmId, `k3sinfra_secret '${store.nameOf("alpha", "k3s-token")}'`);
    expect(own).toMatchObject({ status: 0, out: "token-alpha-123" });
    const other = await onNode(e, env, vmId, `k3sinfra_secret '${store.nameOf("bravo", "k3s-token")}'`);
    expect(other.status).toBe(1);
    expect(other.out).toBe("");
    expect(other.err).toMatch(/HTTP 403/);
  });

  it("a request without a token gets Key Vault's challenge naming the resource to get a token for", async () => {
    const raw = await new Promise<{ status: number; challenge: string }>((resolve, reject) => {
      const req = request(
        `${e.endpoints.azure}/keyvault/${vault("alpha")}/secrets/k3s-token?api-version=7.4`,
        { ca: e.caPem },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, challenge: String(res.headers["www-authenticate"]) });
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(raw.status).toBe(401);
    expect(raw.challenge).toMatch(/^Bearer authorization="[^"]+", resource="https:\/\/vault\.azure\.net"$/);
  });

  it("server 0 stores its kubeconfig; the admin password goes once it exists; reveal reads it back", async () => {
    const store = make("alpha").secretStore!;
    const kubeconfig = 'apiVersion: v1\nkind: Config\nclusters: [{name: "a"}]\n';
    const put = await onNode(
      e,
      env,
      vmId,
      `k3sinfra_secret_put '${store.nameOf("alpha", "kubeconfig")}'`,
      kubeconfig,
    );
    expect(put).toMatchObject({ status: 0 });
    const state = await store.create(
      { values, until: { "datastore-admin-password": "kubeconfig" } },
      ctx("alpha", "secrets"),
    );
    expect(state.nodeWritten?.kubeconfig).toBeTruthy();
    expect(state.names["datastore-admin-password"]).toBeUndefined();
    expect((await store.reveal("kubeconfig", ctx("alpha", "secrets")))?.reveal()).toBe(kubeconfig);
    expect(await store.reveal("datastore-admin-password", ctx("alpha", "secrets"))).toBeUndefined();
    const gone = await onNode(
      e,
      env,
      vmId,
      `k3sinfra_secret '${store.nameOf("alpha", "datastore-admin-password")}'`,
    );
    expect(gone.status).toBe(1);
  });

  it("findByTags finds each cluster's vault", async () => {
    const found = await make("alpha").secretStore!.findByTags(
      { "k3sinfra:cluster": "alpha" },
      ctx("alpha", "secrets"),
    );
    expect(found.map((f) => f.id.split("/").at(-1))).toEqual([vault("alpha")]);
  });

  it("destroy removes role assignments, the vault (purged) and the identity, and leaves the other cluster's", async () => {
    const s = make("alpha");
    await s.secretStore!.delete({ id: "", names: {}, versions: {} }, ctx("alpha", "secrets"));
    await s.nodes!.delete(node, ctx("alpha", "node-0"));
    await s.network!.delete(network, ctx("alpha", "network"));
    // Deleting again is fine.
    await s.secretStore!.delete({ id: "", names: {}, versions: {} }, ctx("alpha", "secrets"));
    const left = e.inventory({ cloud: "azure" });
    expect(
      left.filter((i) => (i.name ?? "").includes("alpha") || i.id.toLowerCase().includes("k3sinfra-alpha")),
    ).toEqual([]);
    expect(left.some((i) => i.type === "Microsoft.KeyVault/deletedVaults")).toBe(false);
    expect(left.some((i) => i.type === "Microsoft.KeyVault/vaults" && i.name === vault("bravo"))).toBe(true);
    expect((await make("bravo").secretStore!.reveal("k3s-token", ctx("bravo", "secrets")))?.reveal()).toBe(
      "token-bravo-456",
    );
  });

  it("a vault name held by another cluster's soft-deleted vault is refused, not purged", async () => {
    // Bravo's vault deleted outside k3sinfra (soft delete), then a cluster whose vault name collides.
    const bravo = e
      .inventory({ cloud: "azure" })
      .find((i) => i.type === "Microsoft.KeyVault/vaults" && i.name === vault("bravo"))!;
    await arm.call("DELETE", bravo.id, "2026-02-01");
    expect(e.inventory({ cloud: "azure" }).some((i) => i.type === "Microsoft.KeyVault/deletedVaults")).toBe(
      true,
    );
    // Recreating bravo itself purges its own leftover and makes the vault again.
    const again = await make("bravo").secretStore!.create(
      { values: { "k3s-token": new Secret("token-bravo-789") } },
      ctx("bravo", "secrets"),
    );
    expect(again.id.split("/").at(-1)).toBe(vault("bravo"));
    // A raw PUT of the same name while soft-deleted: the ARM rule the provider relies on.
    await arm.call("DELETE", again.id, "2026-02-01");
    const put = await arm.call("PUT", again.id, "2026-02-01", {
      location: REGION,
      properties: {
        tenantId: env.AZURE_TENANT_ID,
        sku: { family: "A", name: "standard" },
        enableRbacAuthorization: true,
      },
    });
    expect(put.status).toBe(409);
    expect(JSON.stringify(put.body)).toMatch(/deleted state/);
    // A soft-deleted vault under charlie's vault name that another cluster's tags name: refused, not purged.
    const rg = `/subscriptions/${env.AZURE_SUBSCRIPTION_ID}/resourceGroups/k3sinfra-charlie`;
    await arm.call("PUT", rg, "2025-04-01", { location: REGION, tags: { "k3sinfra:cluster": "charlie" } });
    const foreign = `${rg}/providers/Microsoft.KeyVault/vaults/${vault("charlie")}`;
    const made = await arm.call("PUT", foreign, "2026-02-01", {
      location: REGION,
      tags: { "k3sinfra:cluster": "someone-else" },
      properties: {
        tenantId: env.AZURE_TENANT_ID,
        sku: { family: "A", name: "standard" },
        enableRbacAuthorization: true,
      },
    });
    expect(made.status).toBe(201);
    await arm.call("DELETE", foreign, "2026-02-01");
    await expect(
      make("charlie").secretStore!.create({ values: {} }, ctx("charlie", "secrets")),
    ).rejects.toThrow(/soft-deleted vault/);
    expect(e.inventory({ cloud: "azure" }).some((i) => i.name === vault("charlie"))).toBe(true);
  });
});

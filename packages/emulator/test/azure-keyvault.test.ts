import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AZURE_TEST_CREDENTIALS, type Emulator, startEmulator, VirtualClock } from "../src/index.js";
import { type Answer, azureRequest, azureToken } from "./azure-helpers.js";

let e: Emulator;
let arm: string;
let vaultToken: string;
// Role assignments take effect after a while: time moves only when the test says so.
const clock = new VirtualClock();
const sub = `/subscriptions/${AZURE_TEST_CREDENTIALS.subscriptionId}`;
const rg = `${sub}/resourceGroups/kv`;
const KV = "api-version=2026-02-01";
const AUTH = "api-version=2022-04-01";
const SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6";
const SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";

const call = (
  method: string,
  url: string,
  body?: unknown,
  token?: string,
  headers: Record<string, string> = {},
) => azureRequest(e, method, url, body, { token, headers });

const tokenFor = (scope: string): Promise<string> => azureToken(e, scope);
const a = (method: string, url: string, body?: unknown) => call(method, url, body, arm);

const vaultBody = (extra: object = {}) => ({
  location: "westeurope",
  properties: {
    tenantId: AZURE_TEST_CREDENTIALS.tenantId,
    sku: { family: "A", name: "standard" },
    enableRbacAuthorization: true,
    softDeleteRetentionInDays: 7,
    ...extra,
  },
});
const vault = (name: string) => `${rg}/providers/Microsoft.KeyVault/vaults/${name}`;
const assignment = (scope: string, name: string) =>
  `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}?${AUTH}`;
const role = (id: string) => `${sub}/providers/Microsoft.Authorization/roleDefinitions/${id}`;

beforeAll(async () => {
  e = await startEmulator({
    clouds: ["azure"],
    timeScale: 1,
    virtualClock: clock,
    seed: 8,
    log: () => undefined,
  });
  arm = await tokenFor("https://management.azure.com/.default");
  vaultToken = await tokenFor("https://vault.azure.net/.default");
  await a("PUT", `${rg}?api-version=2025-04-01`, { location: "westeurope" });
});
afterAll(() => e?.stop());

describe("emulated Azure: Key Vault, managed identities and role assignments", () => {
  it("vault names are 3-24 letters, digits and hyphens from a letter, without '--', and global", async () => {
    for (const bad of ["ab", "1vault", "a--b", "vault-", "a".repeat(25), "va_lt"]) {
      const r = await a("PUT", `${vault(bad)}?${KV}`, vaultBody());
      expect(r.status, bad).toBe(400);
      expect(r.body.error.code).toBe("InvalidResourceName");
    }
    const made = await a("PUT", `${vault("kv-rules-1")}?${KV}`, vaultBody());
    expect(made.status).toBe(201);
    expect(made.headers["azure-asyncoperation"]).toBeDefined();
    expect(made.body.properties).toMatchObject({ enableRbacAuthorization: true, enableSoftDelete: true });
    expect(made.body.properties.vaultUri).toBe(`${e.httpsUrl}/keyvault/kv-rules-1/`);
    await a("PUT", `${sub}/resourceGroups/kv2?api-version=2025-04-01`, { location: "westeurope" });
    const taken = await a(
      "PUT",
      `${sub}/resourceGroups/kv2/providers/Microsoft.KeyVault/vaults/KV-RULES-1?${KV}`,
      vaultBody(),
    );
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe("VaultAlreadyExists");
    const noSku = await a("PUT", `${vault("kv-rules-x")}?${KV}`, {
      location: "westeurope",
      properties: { tenantId: AZURE_TEST_CREDENTIALS.tenantId },
    });
    expect(noSku.status).toBe(400);
    const retention = await a(
      "PUT",
      `${vault("kv-rules-x")}?${KV}`,
      vaultBody({ softDeleteRetentionInDays: 5 }),
    );
    expect(retention.status).toBe(400);
  });

  it("a deleted vault keeps its name until purged; purge is a long-running operation; purge protection refuses it", async () => {
    expect((await a("DELETE", `${vault("kv-rules-1")}?${KV}`)).status).toBe(200);
    const deleted = `${sub}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-rules-1`;
    const got = await a("GET", `${deleted}?${KV}`);
    expect(got.status).toBe(200);
    expect(got.body.properties.vaultId).toBe(vault("kv-rules-1"));
    expect(
      (await a("GET", `${sub}/providers/Microsoft.KeyVault/deletedVaults?${KV}`)).body.value,
    ).toHaveLength(1);
    expect(e.inventory({ cloud: "azure" }).some((i) => i.type === "Microsoft.KeyVault/deletedVaults")).toBe(
      true,
    );
    const again = await a("PUT", `${vault("kv-rules-1")}?${KV}`, vaultBody());
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/deleted state/);
    const purge = await a("POST", `${deleted}/purge?${KV}`);
    expect(purge.status).toBe(202);
    expect((await call("GET", String(purge.headers.location), undefined, arm)).status).toBe(200);
    expect((await a("GET", `${deleted}?${KV}`)).status).toBe(404);
    expect((await a("PUT", `${vault("kv-rules-1")}?${KV}`, vaultBody())).status).toBe(201);
    await a("PUT", `${vault("kv-protected")}?${KV}`, vaultBody({ enablePurgeProtection: true }));
    await a("DELETE", `${vault("kv-protected")}?${KV}`);
    const refused = await a(
      "POST",
      `${sub}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-protected/purge?${KV}`,
    );
    expect(refused.status).toBe(409);
  });

  it("deleting the resource group soft-deletes the vaults in it", async () => {
    const group = `${sub}/resourceGroups/kv3`;
    await a("PUT", `${group}?api-version=2025-04-01`, { location: "westeurope" });
    await a("PUT", `${group}/providers/Microsoft.KeyVault/vaults/kv-in-group?${KV}`, vaultBody());
    expect((await a("DELETE", `${group}?api-version=2025-04-01`)).status).toBe(202);
    const deleted = `${sub}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-in-group`;
    expect((await a("GET", `${deleted}?${KV}`)).status).toBe(200);
    await a("POST", `${deleted}/purge?${KV}`);
  });

  it("role assignments: GUID names, required principal and role, one per principal, role and scope", async () => {
    const scope = vault("kv-rules-1");
    const principal = "11111111-2222-4333-8444-555555555555";
    expect(
      (
        await a("PUT", assignment(scope, "not-a-guid"), {
          properties: { roleDefinitionId: role(SECRETS_USER), principalId: principal },
        })
      ).status,
    ).toBe(400);
    const missing = await a("PUT", assignment(scope, "00000000-0000-4000-8000-000000000001"), {
      properties: { roleDefinitionId: role(SECRETS_USER) },
    });
    expect(missing.body.error.code).toBe("MissingRequiredParameter");
    const ok = await a("PUT", assignment(scope, "00000000-0000-4000-8000-000000000002"), {
      properties: { roleDefinitionId: role(SECRETS_USER), principalId: principal },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.properties.scope).toBe(scope);
    const dup = await a("PUT", assignment(scope, "00000000-0000-4000-8000-000000000003"), {
      properties: { roleDefinitionId: role(SECRETS_USER), principalId: principal },
    });
    expect(dup.body.error.code).toBe("RoleAssignmentExists");
    const noScope = await a("PUT", assignment(vault("kv-nowhere"), "00000000-0000-4000-8000-000000000004"), {
      properties: { roleDefinitionId: role(SECRETS_USER), principalId: principal },
    });
    expect(noScope.status).toBe(404);
  });

  it("a just-made identity is not found by an assignment without principalType until Entra ID replicated it", async () => {
    const id = `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/fresh`;
    const made = await a("PUT", `${id}?api-version=2024-11-30`, { location: "westeurope" });
    const principalId = made.body.properties.principalId;
    const scope = vault("kv-rules-1");
    const untyped = await a("PUT", assignment(scope, "00000000-0000-4000-8000-000000000010"), {
      properties: { roleDefinitionId: role(SECRETS_USER), principalId },
    });
    expect(untyped.body.error.code).toBe("PrincipalNotFound");
    const typed = await a("PUT", assignment(scope, "00000000-0000-4000-8000-000000000010"), {
      properties: { roleDefinitionId: role(SECRETS_USER), principalId, principalType: "ServicePrincipal" },
    });
    expect(typed.status).toBe(201);
  });

  it("the data plane: challenge, audience, RBAC once propagated, soft-deleted secrets and purge", async () => {
    const url = `/keyvault/kv-rules-1/secrets/token?api-version=7.4`;
    const challenge = await call("GET", url);
    expect(challenge.status).toBe(401);
    expect(challenge.headers["www-authenticate"]).toMatch(/resource="https:\/\/vault\.azure\.net"/);
    expect((await call("GET", url, undefined, arm)).status).toBe(401);
    const denied = await call("PUT", url, { value: "s3cret" }, vaultToken);
    expect(denied.status).toBe(403);
    expect(denied.body.error.innererror.code).toBe("ForbiddenByRbac");
    await a("PUT", assignment(vault("kv-rules-1"), "00000000-0000-4000-8000-000000000005"), {
      properties: { roleDefinitionId: role(SECRETS_OFFICER), principalId: AZURE_TEST_CREDENTIALS.clientId },
    });
    // Not in effect until RBAC propagated.
    expect((await call("PUT", url, { value: "s3cret" }, vaultToken)).status).toBe(403);
    clock.advance(60_000);
    const set = await call("PUT", url, { value: "s3cret" }, vaultToken);
    expect(set.status).toBe(200);
    expect(set.body.id).toMatch(/^https:\/\/kv-rules-1\.vault\.azure\.net\/secrets\/token\/[0-9a-f]{32}$/);
    expect((await call("GET", url, undefined, vaultToken)).body.value).toBe("s3cret");
    expect((await call("DELETE", url, undefined, vaultToken)).status).toBe(200);
    expect((await call("GET", url, undefined, vaultToken)).status).toBe(404);
    const reuse = await call("PUT", url, { value: "again" }, vaultToken);
    expect(reuse.status).toBe(409);
    const deleted = `/keyvault/kv-rules-1/deletedsecrets/token?api-version=7.4`;
    expect((await call("GET", deleted, undefined, vaultToken)).status).toBe(200);
    expect((await call("DELETE", deleted, undefined, vaultToken)).status).toBe(204);
    expect((await call("PUT", url, { value: "again" }, vaultToken)).status).toBe(200);
  });

  it("IMDS gives a VM's user-assigned identity a token; another client id is not found", async () => {
    const id = `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nodes`;
    const identity = await a("PUT", `${id}?api-version=2024-11-30`, { location: "westeurope" });
    expect(identity.status).toBe(201);
    expect(identity.body.properties.principalId).toMatch(/^[0-9a-f-]{36}$/);
    const net = "api-version=2026-01-01";
    await a("PUT", `${rg}/providers/Microsoft.Network/virtualNetworks/vn?${net}`, {
      location: "westeurope",
      properties: {
        addressSpace: { addressPrefixes: ["10.9.0.0/16"] },
        subnets: [{ name: "s", properties: { addressPrefix: "10.9.0.0/24" } }],
      },
    });
    const nic = `${rg}/providers/Microsoft.Network/networkInterfaces/nic`;
    await a("PUT", `${nic}?${net}`, {
      location: "westeurope",
      properties: {
        ipConfigurations: [
          {
            name: "ip",
            properties: { subnet: { id: `${rg}/providers/Microsoft.Network/virtualNetworks/vn/subnets/s` } },
          },
        ],
      },
    });
    const vm = await a("PUT", `${rg}/providers/Microsoft.Compute/virtualMachines/vm?api-version=2026-04-01`, {
      location: "westeurope",
      identity: { type: "UserAssigned", userAssignedIdentities: { [id]: {} } },
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
        osProfile: { computerName: "vm", adminUsername: "ubuntu", adminPassword: "Abcdefgh1234!" },
        networkProfile: { networkInterfaces: [{ id: nic }] },
      },
    });
    expect(vm.status).toBe(201);
    clock.advance(120_000);
    const imds = `${e.url}/azure-imds/${vm.body.properties.vmId}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net`;
    const get = (url: string, headers: Record<string, string> = { metadata: "true" }) =>
      fetch(url, { headers }).then(async (r) => ({ status: r.status, body: (await r.json()) as Answer }));
    expect((await get(imds, {})).status).toBe(400);
    const t = await get(imds);
    expect(t.status).toBe(200);
    expect(t.body).toMatchObject({ token_type: "Bearer", resource: "https://vault.azure.net" });
    expect(t.body.client_id).toBe(identity.body.properties.clientId);
    const other = await get(`${imds}&client_id=00000000-0000-4000-8000-00000000000f`);
    expect(other).toMatchObject({ status: 400, body: { error_description: "Identity not found" } });
  });
});

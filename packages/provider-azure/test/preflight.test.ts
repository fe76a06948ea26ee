import { K3sinfraError } from "@k3sinfra/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { azure, vaultNameOf } from "../src/index.js";
import { RawArm } from "./back-door.js";
import { type Harness, REGION, startHarness, testConfig } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, "pre");
});
afterAll(() => h?.stop());

const run = (env: Record<string, string>, config = h.config, options = {}) => {
  const ctx = {
    config,
    options,
    roles: ["network", "nodes", "datastore", "loadBalancer", "dns", "secretStore"] as const,
    env,
    baseDir: process.cwd(),
    operation: "up" as const,
  };
  return azure.preflight!(azure.services(ctx), ctx, new AbortController().signal);
};

describe("Azure preflight on the emulator", () => {
  it("passes with the service principal, the subscription and the DNS zone", async () => {
    await expect(run(h.env)).resolves.toBeUndefined();
  });

  it("a wrong client secret is AuthFailed, naming the variables to set, and never echoes the secret", async () => {
    const error = await run({ ...h.env, AZURE_CLIENT_SECRET: "not-the-secret-1234" }).catch(
      (e: unknown) => e,
    );
    expect(K3sinfraError.is(error, "AuthFailed")).toBe(true);
    expect((error as Error).message).toContain("AZURE_CLIENT_SECRET");
    expect((error as Error).message).not.toContain("not-the-secret-1234");
  });

  it("a missing DNS zone and a missing given resource group come back together, with their paths", async () => {
    const config = testConfig("pre", {
      dns: { zone: "missing.example" },
      rancher: { hostname: "rancher.missing.example" },
    });
    const error = await run(h.env, config, { resourceGroup: "nope" }).catch((e: unknown) => e);
    expect(K3sinfraError.is(error, "InvalidConfig")).toBe(true);
    expect((error as { issues: { path: string }[] }).issues.map((i) => i.path).sort()).toEqual([
      "dns.zone",
      "options.azure.resourceGroup",
    ]);
  });

  it("a Key Vault name held by another owner's soft-deleted vault is refused before anything is made", async () => {
    const arm = new RawArm(h.emulator);
    const sub = `/subscriptions/${h.env.AZURE_SUBSCRIPTION_ID}`;
    const rg = `${sub}/resourceGroups/squatter`;
    await arm.call("PUT", rg, "2025-04-01", { location: REGION });
    const name = vaultNameOf(h.env.AZURE_SUBSCRIPTION_ID!, "k3sinfra-pre", "pre");
    const id = `${rg}/providers/Microsoft.KeyVault/vaults/${name}`;
    const made = await arm.call("PUT", id, "2026-02-01", {
      location: REGION,
      tags: { "k3sinfra:cluster": "someone-else" },
      properties: {
        tenantId: h.env.AZURE_TENANT_ID,
        sku: { family: "A", name: "standard" },
        enableRbacAuthorization: true,
      },
    });
    expect(made.status).toBe(201);
    await arm.call("DELETE", id, "2026-02-01");
    const error = await run(h.env).catch((e: unknown) => e);
    expect(K3sinfraError.is(error, "InvalidConfig")).toBe(true);
    expect((error as Error).message).toMatch(/soft-deleted vault/);
    await arm.call(
      "POST",
      `${sub}/providers/Microsoft.KeyVault/locations/${REGION}/deletedVaults/${name}/purge`,
      "2026-02-01",
    );
    await expect(run(h.env)).resolves.toBeUndefined();
  });
});

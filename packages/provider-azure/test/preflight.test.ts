import { K3sinfraError } from "@k3sinfra/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { azure } from "../src/index.js";
import { type Harness, startHarness, testConfig } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, "pre");
});
afterAll(() => h?.stop());

const run = (env: Record<string, string>, config = h.config, options = {}) => {
  const ctx = {
    config,
    options,
    roles: ["network", "nodes", "datastore", "loadBalancer", "dns"] as const,
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
});

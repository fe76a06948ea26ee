import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidConfigError, ProviderRegistry } from "@k3sinfra/core";
import { describe, expect, it } from "vitest";
import { builtinProviders, createRegistry, providerAliases } from "../src/registry.js";

const project = () => mkdtempSync(join(tmpdir(), "k3sinfra-registry-"));
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("the CLI's table of built-in providers", () => {
  it("resolves a built-in name and a DNS service's alias to the same provider", async () => {
    const registry = createRegistry();
    const aws = await registry.resolve("aws", project());
    expect(aws.name).toBe("aws");
    expect(await registry.resolve("route53", project())).toBe(aws);
    expect(registry.nameOf("clouddns")).toBe("gcp");
    expect(registry.names()).toEqual(expect.arrayContaining(Object.keys(builtinProviders)));
  });

  it("says which package to install for a known provider that is not installed", async () => {
    const error = await failure(createRegistry().resolve("gcp", project()));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).issues[0]?.message).toContain("npm install @k3sinfra/provider-gcp");
    // An alias names the provider's package too.
    const alias = await failure(createRegistry().resolve("azuredns", project()));
    expect((alias as InvalidConfigError).issues[0]?.message).toContain(
      "npm install @k3sinfra/provider-azure",
    );
  });

  it("is the only table: core's registry knows no provider name unless its caller gives one", async () => {
    const error = await failure(new ProviderRegistry().resolve("gcp", project()));
    expect((error as InvalidConfigError).issues[0]?.message).not.toContain("provider-gcp");
    expect(new ProviderRegistry().nameOf("route53")).toBe("route53");
    expect(Object.values(providerAliases).every((name) => name in builtinProviders)).toBe(true);
  });
});

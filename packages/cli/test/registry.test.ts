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

  it("loads every built-in provider it lists, or says which package to install", async () => {
    for (const [name, pkg] of Object.entries(builtinProviders)) {
      const result = await createRegistry()
        .resolve(name, project())
        .catch((e: unknown) => e);
      // Packages still being written (gcp, azure) may not be installed where this runs.
      if (result instanceof InvalidConfigError)
        expect(result.issues[0]?.message, name).toContain(`npm install ${pkg}`);
      else expect((result as { name: string }).name, name).toBe(name);
    }
  });

  it("names the package of a known provider that is not installed, also when reached by an alias", async () => {
    const registry = new ProviderRegistry(
      {},
      {
        packages: { ...builtinProviders, nowhere: "@k3sinfra/provider-nowhere" },
        aliases: { ...providerAliases, nowheredns: "nowhere" },
      },
    );
    for (const ref of ["nowhere", "nowheredns"]) {
      const error = await failure(registry.resolve(ref, project()));
      expect(error, ref).toBeInstanceOf(InvalidConfigError);
      expect((error as InvalidConfigError).issues[0]?.message).toContain(
        "npm install @k3sinfra/provider-nowhere",
      );
    }
  });

  it("is the only table: core's registry knows no provider name unless its caller gives one", async () => {
    const error = await failure(new ProviderRegistry().resolve("gcp", project()));
    expect((error as InvalidConfigError).issues[0]?.message).not.toContain("provider-gcp");
    expect(new ProviderRegistry().nameOf("route53")).toBe("route53");
    expect(Object.values(providerAliases).every((name) => name in builtinProviders)).toBe(true);
  });
});

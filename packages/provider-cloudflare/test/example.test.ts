import { fileURLToPath } from "node:url";
import { defineProvider, ProviderRegistry, validateConfig } from "@k3sinfra/core";
import { describe, expect, it } from "vitest";
import { cloudflare } from "../src/index.js";

// A stand-in for the AWS descriptor with its compute capabilities: this package does not depend on provider-aws.
const awsCompute = defineProvider({
  name: "aws",
  capabilities: {
    services: ["network", "nodes", "datastore", "loadBalancer", "dns"],
    loadBalancerModes: ["l4", "l7"],
    loadBalancerAddress: "hostname",
    dnsRecordTypes: ["ALIAS", "CNAME"],
    datastoreEngines: [{ engine: "mysql", versions: ["8.0", "8.4"] }],
  },
  // Every provider with nodes names its own reader (core ships none); validation only checks there is one.
  metadataReader: 'curl -fsS -m 5 "http://169.254.169.254/k3sinfra/$1"',
  register() {
    throw new Error("validation must not register services");
  },
});

describe("examples/aws-cloudflare.yaml", () => {
  it("is a valid config with Cloudflare serving DNS, DNS-only", async () => {
    const config = await validateConfig("aws-cloudflare.yaml", {
      baseDir: fileURLToPath(new URL("../../../examples/", import.meta.url)),
      registry: new ProviderRegistry().register(awsCompute).register(cloudflare),
    });
    expect([config.provider, config.dns.provider, config.dns.zone]).toEqual([
      "aws",
      "cloudflare",
      "example.com",
    ]);
    expect(config.dns.proxied).toBe(false);
    expect(cloudflare.parseOptions?.(config.options.cloudflare)).toEqual({
      ok: true,
      value: { allowProxied: false },
    });
  });
});

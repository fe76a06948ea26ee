import { describe, expect, it } from "vitest";
import { cloudsFor } from "../src/emulate.js";
import { UsageError } from "../src/render/errors.js";

const base = { name: "emu", region: "us-east-1", rancher: { hostname: "r.example.com" } };

describe("--emulate cloud selection", () => {
  it("emulates AWS, with Cloudflare when DNS is there", () => {
    expect(cloudsFor({ ...base, provider: "aws", dns: { zone: "example.com" } })).toEqual(["aws"]);
    expect(
      cloudsFor({ ...base, provider: "aws", dns: { zone: "example.com", provider: "route53" } }),
    ).toEqual(["aws"]);
    expect(
      cloudsFor({ ...base, provider: "aws", dns: { zone: "example.com", provider: "cloudflare" } }),
    ).toEqual(["aws", "cloudflare"]);
  });
  it("refuses clouds the emulator does not have, as a usage error", () => {
    expect(() => cloudsFor({ ...base, provider: "hetzner", dns: { zone: "example.com" } })).toThrow(
      UsageError,
    );
    expect(() =>
      cloudsFor({ ...base, provider: "aws", dns: { zone: "example.com", provider: "digitalocean" } }),
    ).toThrow(/dns.provider 'digitalocean'/);
  });
});

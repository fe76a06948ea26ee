import { type ClusterConfig, ClusterConfigSchema, type DnsRecordSpec, K3sinfraError } from "@k3sinfra/core";
import type { Emulator } from "@k3sinfra/emulator";
import Cloudflare from "cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloudflare, MAX_RETRY_AFTER_SECONDS, PROXY_WARNING } from "../src/index.js";
import { ctxFor, envFor, ownedIn, servicesFor, startCloud, testConfig } from "./helpers.js";

let emu: Emulator;
let raw: Cloudflare;
let zoneId: string;
beforeAll(async () => {
  emu = await startCloud();
  raw = new Cloudflare({
    apiToken: emu.credentials.cloudflare.apiToken,
    baseURL: emu.endpoints.cloudflare,
    maxRetries: 0,
  });
  zoneId = (await raw.zones.list({ name: "example.com" })).result[0]?.id ?? "";
});
afterAll(async () => {
  await emu.stop();
});

const dns = (config: ClusterConfig, env = envFor(emu), options = {}) =>
  servicesFor(config, env, options).dns!;

const specFor = (config: ClusterConfig, target: DnsRecordSpec["target"], proxied = false): DnsRecordSpec => ({
  zone: config.dns.zone,
  hostname: config.rancher.hostname,
  target,
  ttl: 300,
  proxied,
});

const recordsAt = async (name: string, zone = zoneId) =>
  (await raw.dns.records.list({ zone_id: zone, name: { exact: name } })).result
    .map((r) => ({ type: r.type, content: r.content, proxied: r.proxied, comment: r.comment, tags: r.tags }))
    .sort((a, b) => `${a.type}${a.content}`.localeCompare(`${b.type}${b.content}`));

const errorOf = async (p: Promise<unknown>): Promise<K3sinfraError> => {
  try {
    await p;
  } catch (e) {
    if (K3sinfraError.is(e)) return e;
    throw e;
  }
  throw new Error("expected the call to fail");
};

describe("Cloudflare DNS records", () => {
  it("points a CNAME at a load balancer host name, DNS-only, with the ownership comment", async () => {
    const config = testConfig("cn1");
    const state = await dns(config).create(
      specFor(config, { type: "CNAME", hostname: "LB-1.elb.example.net." }),
      ctxFor("cn1"),
    );
    expect(state).toMatchObject({
      type: "CNAME",
      values: ["lb-1.elb.example.net"],
      hostname: "rancher.cn1.example.com",
    });
    expect(await recordsAt("rancher.cn1.example.com")).toEqual([
      {
        type: "CNAME",
        content: "lb-1.elb.example.net",
        proxied: false,
        comment: "k3sinfra:cluster=cn1 k3sinfra:resource=dns-record",
        tags: [],
      },
    ]);
  });

  it("writes one A record per address and follows target changes, including A ↔ CNAME", async () => {
    const config = testConfig("ab1");
    const ctx = ctxFor("ab1");
    const svc = dns(config);
    const a = await svc.create(
      specFor(config, { type: "A", addresses: ["203.0.113.2", "203.0.113.1", "203.0.113.2"] }),
      ctx,
    );
    expect(a.values).toEqual(["203.0.113.1", "203.0.113.2"]);
    expect((await recordsAt(config.rancher.hostname)).map((r) => r.content)).toEqual([
      "203.0.113.1",
      "203.0.113.2",
    ]);
    const moved = await svc.update?.(a, specFor(config, { type: "A", addresses: ["203.0.113.3"] }), ctx);
    expect(moved?.values).toEqual(["203.0.113.3"]);
    expect((await recordsAt(config.rancher.hostname)).map((r) => r.content)).toEqual(["203.0.113.3"]);
    await svc.update?.(a, specFor(config, { type: "CNAME", hostname: "lb.example.net" }), ctx);
    expect((await recordsAt(config.rancher.hostname)).map((r) => `${r.type} ${r.content}`)).toEqual([
      "CNAME lb.example.net",
    ]);
    const back = await svc.update?.(a, specFor(config, { type: "A", addresses: ["203.0.113.9"] }), ctx);
    expect(await svc.read(a, ctx)).toEqual(back);
    expect((await recordsAt(config.rancher.hostname)).map((r) => `${r.type} ${r.content}`)).toEqual([
      "A 203.0.113.9",
    ]);
  });

  it("adopts its own records from a fresh process instead of duplicating them", async () => {
    const config = testConfig("ad1");
    const spec = specFor(config, { type: "A", addresses: ["198.51.100.7"] });
    const first = await dns(config).create(spec, ctxFor("ad1"));
    const before = ownedIn(emu, { "k3sinfra:cluster": "ad1" });
    const again = await dns(config).create(spec, ctxFor("ad1"));
    expect(again.id).toBe(first.id);
    expect(ownedIn(emu, { "k3sinfra:cluster": "ad1" })).toEqual(before);
  });

  it("never overwrites a record at the name that it does not own", async () => {
    const config = testConfig("fx1");
    const name = config.rancher.hostname;
    await raw.dns.records.create({
      zone_id: zoneId,
      type: "A",
      name,
      content: "192.0.2.50",
      ttl: 1,
      comment: "hand-made",
    });
    const err = await errorOf(
      dns(config).create(specFor(config, { type: "A", addresses: ["203.0.113.10"] }), ctxFor("fx1")),
    );
    expect(err.code).toBe("AlreadyExists");
    expect(err.message).toContain(name);
    expect(err.message).toContain("not created by k3sinfra");
    expect(await recordsAt(name)).toEqual([
      { type: "A", content: "192.0.2.50", proxied: false, comment: "hand-made", tags: [] },
    ]);

    // Another cluster's record is refused as well, naming that cluster.
    const other = testConfig("fx2");
    await dns(other).create(
      specFor(other, { type: "CNAME", hostname: "lb.other.example.net" }),
      ctxFor("fx2"),
    );
    const taken = {
      ...specFor(config, { type: "A", addresses: ["203.0.113.10"] }),
      hostname: other.rancher.hostname,
    };
    const err2 = await errorOf(dns(config).create(taken, ctxFor("fx1")));
    expect(err2.code).toBe("AlreadyExists");
    expect(err2.message).toContain("'fx2'");
    expect((await recordsAt(other.rancher.hostname)).map((r) => r.content)).toEqual(["lb.other.example.net"]);
  });

  it("finds only this cluster's records by tags, and deletes only its own", async () => {
    const mine = testConfig("ft1");
    const theirs = testConfig("ft2");
    const a = await dns(mine).create(
      specFor(mine, { type: "A", addresses: ["203.0.113.20"] }),
      ctxFor("ft1"),
    );
    await dns(theirs).create(specFor(theirs, { type: "A", addresses: ["203.0.113.21"] }), ctxFor("ft2"));
    const found = await dns(mine).findByTags(
      { "k3sinfra:managed-by": "k3sinfra", "k3sinfra:cluster": "ft1" },
      ctxFor("ft1"),
    );
    expect(found).toEqual([a]);
    await dns(mine).delete(a, ctxFor("ft1"));
    expect(await recordsAt(mine.rancher.hostname)).toEqual([]);
    expect((await recordsAt(theirs.rancher.hostname)).length).toBe(1);
  });

  it("also tags records on zones whose plan has record tags", async () => {
    const config = ClusterConfigSchema.parse({
      ...testConfig("pd1"),
      dns: { provider: "cloudflare", zone: "paid.example" },
      rancher: { hostname: "rancher.paid.example" },
    });
    await dns(config).create(specFor(config, { type: "A", addresses: ["203.0.113.30"] }), ctxFor("pd1"));
    const paid = (await raw.zones.list({ name: "paid.example" })).result[0]?.id ?? "";
    const [record] = await recordsAt("rancher.paid.example", paid);
    expect(record?.tags).toEqual([
      "k3sinfra-cluster:pd1",
      "k3sinfra-managed-by:k3sinfra",
      "k3sinfra-resource:dns-record",
    ]);
    expect(ownedIn(emu, { "k3sinfra:cluster": "pd1", "k3sinfra:resource": "dns-record" }).length).toBe(1);
  });
});

describe("proxied records", () => {
  const proxiedConfig = (name: string) =>
    ClusterConfigSchema.parse({
      ...testConfig(name),
      loadBalancer: { mode: "l7", certificate: "cert" },
      dns: { provider: "cloudflare", zone: "example.com", proxied: true },
    });

  it("are a config error unless options.cloudflare.allowProxied is set", () => {
    const config = proxiedConfig("px1");
    const issues = cloudflare.validate?.(config, {}, ["dns"]) ?? [];
    expect(issues.map((i) => i.path)).toEqual(["dns.proxied"]);
    expect(issues[0]?.message).toContain("options.cloudflare.allowProxied");
    expect(issues[0]?.message).toContain("dns.proxied: false");
    expect(cloudflare.validate?.(config, { allowProxied: true }, ["dns"])).toEqual([]);
    expect(cloudflare.validate?.(testConfig("px1"), {}, ["dns"])).toEqual([]);
  });

  it("are written proxied with a warning when allowed", async () => {
    const config = proxiedConfig("px2");
    const reports: string[] = [];
    await dns(config, envFor(emu), { allowProxied: true }).create(
      specFor(config, { type: "CNAME", hostname: "lb.example.net" }, true),
      ctxFor("px2", "dns-record", (m) => reports.push(m)),
    );
    expect(reports).toContain(PROXY_WARNING);
    expect((await recordsAt(config.rancher.hostname)).map((r) => r.proxied)).toEqual([true]);
  });
});

describe("options", () => {
  it("rejects unknown keys and malformed values, naming each", () => {
    const parsed = cloudflare.parseOptions?.({
      apiToken: "",
      zoneId: "xyz",
      allowProxied: "yes",
      region: "x",
    });
    expect(parsed?.ok).toBe(false);
    const paths = parsed && !parsed.ok ? parsed.issues.map((i) => i.path).sort() : [];
    expect(paths).toEqual(["allowProxied", "apiToken", "region", "zoneId"]);
    expect(
      cloudflare.parseOptions?.({ baseUrl: "http://127.0.0.1:1/client/v4", zoneId: "a".repeat(32) }),
    ).toEqual({
      ok: true,
      value: { baseUrl: "http://127.0.0.1:1/client/v4", zoneId: "a".repeat(32) },
    });
  });

  it("use zoneId instead of the lookup, and refuse a zoneId of another zone", async () => {
    const config = testConfig("zid");
    const state = await dns(config, envFor(emu), { zoneId }).create(
      specFor(config, { type: "A", addresses: ["203.0.113.40"] }),
      ctxFor("zid"),
    );
    expect(state.zoneId).toBe(zoneId);
    const paid = (await raw.zones.list({ name: "paid.example" })).result[0]?.id ?? "";
    const err = await errorOf(
      dns(config, envFor(emu), { zoneId: paid }).create(
        specFor(config, { type: "A", addresses: ["203.0.113.40"] }),
        ctxFor("zid"),
      ),
    );
    expect(err.code).toBe("InvalidConfig");
    expect(err.message).toContain("options.cloudflare.zoneId");
  });
});

describe("preflight and errors", () => {
  const preflight = (config: ClusterConfig, env: Record<string, string | undefined>) => {
    const ctx = { config, options: {}, roles: ["dns" as const], env, baseDir: process.cwd() };
    return cloudflare.preflight?.(servicesFor(config, env), ctx, new AbortController().signal);
  };

  it("passes with the emulator's token and zone", async () => {
    await preflight(testConfig("pf0"), envFor(emu));
  });

  it("fails on a missing token before any request, naming CLOUDFLARE_API_TOKEN", async () => {
    const before = emu.requestLog().length;
    const err = await errorOf(
      Promise.resolve(preflight(testConfig("pf1"), { CLOUDFLARE_BASE_URL: emu.endpoints.cloudflare })),
    );
    expect(err.code).toBe("AuthFailed");
    expect(err.message).toContain("CLOUDFLARE_API_TOKEN");
    expect(emu.requestLog().length).toBe(before);
  });

  it("fails on a token Cloudflare refuses, naming CLOUDFLARE_API_TOKEN and not echoing the token", async () => {
    const token = "wrong-token-0123456789";
    const err = await errorOf(
      Promise.resolve(preflight(testConfig("pf2"), { ...envFor(emu), CLOUDFLARE_API_TOKEN: token })),
    );
    expect(err.code).toBe("AuthFailed");
    expect(err.message).toContain("CLOUDFLARE_API_TOKEN");
    expect(err.message).toContain("9109");
    expect(err.message).not.toContain(token);
  });

  it("names dns.zone when the token sees no such zone", async () => {
    const config = ClusterConfigSchema.parse({
      ...testConfig("pf3"),
      dns: { provider: "cloudflare", zone: "missing.example" },
      rancher: { hostname: "rancher.missing.example" },
    });
    const err = await errorOf(Promise.resolve(preflight(config, envFor(emu))));
    expect(err.code).toBe("InvalidConfig");
    expect(err.message).toContain("dns.zone");
  });

  it("retries a passing throttle and succeeds", async () => {
    const config = testConfig("th1");
    emu.addFault({ cloud: "cloudflare", operation: "ListDnsRecords", kind: "throttle", times: 1 });
    try {
      const reports: string[] = [];
      const state = await dns(config).create(
        specFor(config, { type: "A", addresses: ["203.0.113.50"] }),
        ctxFor("th1", "dns-record", (m) => reports.push(m)),
      );
      expect(state.values).toEqual(["203.0.113.50"]);
      expect(reports.some((m) => m.includes("Throttled"))).toBe(true);
    } finally {
      emu.clearFaults();
    }
  });

  it("turns Cloudflare's rate-limit block into ThrottledError with the wait, without hammering", async () => {
    const limited = await startCloud({
      timeScale: 1,
      fixtures: { cloudflare: { zones: ["example.com"], rateLimit: { requests: 2, windowSeconds: 300 } } },
    });
    try {
      const config = testConfig("rl1");
      const svc = dns(config, envFor(limited));
      const err = await errorOf(
        svc.create(specFor(config, { type: "A", addresses: ["203.0.113.60"] }), ctxFor("rl1")),
      );
      expect(err.code).toBe("Throttled");
      expect(err.retryAfterSeconds).toBeGreaterThan(MAX_RETRY_AFTER_SECONDS);
      expect(limited.requestLog().filter((e) => e.status === 429).length).toBe(1);
    } finally {
      await limited.stop();
    }
  });
});

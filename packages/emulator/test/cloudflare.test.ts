import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Cloudflare from "cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, type EmulatorOptions, startEmulator } from "../src/index.js";

const start = (opts: EmulatorOptions = {}) =>
  startEmulator({ clouds: ["aws", "cloudflare"], timeScale: 0.001, log: () => {}, ...opts });

const client = (emu: Emulator, apiToken = emu.credentials.cloudflare.apiToken) =>
  new Cloudflare({ apiToken, baseURL: emu.endpoints.cloudflare, maxRetries: 0 });

const all = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

/** The HTTP status and the envelope's first error (code, message, chained code) of a failed call. */
const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    const err = e as {
      status?: number;
      errors?: { code: number; message: string; error_chain?: { code: number }[] }[];
    };
    const first = err.errors?.[0];
    return {
      status: err.status,
      code: first?.code,
      message: first?.message,
      chain: first?.error_chain?.[0]?.code,
    };
  }
  throw new Error("expected the call to fail");
};

const zoneId = async (cf: Cloudflare, name: string) => {
  const [zone] = await all(cf.zones.list({ name }));
  if (!zone) throw new Error(`no zone ${name}`);
  return zone.id;
};

let emu: Emulator;
let cf: Cloudflare;
let zone_id: string;
let paid: string;
beforeAll(async () => {
  emu = await start({
    fixtures: { cloudflare: { zones: ["example.com", { name: "paid.example", plan: "pro" }] } },
  });
  cf = client(emu);
  zone_id = await zoneId(cf, "example.com");
  paid = await zoneId(cf, "paid.example");
});
afterAll(async () => {
  await emu.stop();
});

describe("Cloudflare zones", () => {
  it("lists fixture zones by name with 32-hex ids and their plan", async () => {
    const [zone, ...more] = await all(cf.zones.list({ name: "example.com", status: "active" }));
    expect(more).toEqual([]);
    expect(zone?.id).toMatch(/^[0-9a-f]{32}$/);
    expect(zone?.plan.legacy_id).toBe("free");
    expect(await all(cf.zones.list({ name: "other.example" }))).toEqual([]);
    expect((await all(cf.zones.list({ name: "ends_with:example" }))).map((z) => z.name)).toEqual([
      "paid.example",
    ]);
    expect((await cf.zones.get({ zone_id: paid })).plan.legacy_id).toBe("pro");
  });

  it("answers token verification", async () => {
    const v = await cf.user.tokens.verify();
    expect(v.status).toBe("active");
  });
});

describe("Cloudflare DNS records", () => {
  it("creates, reads, replaces, edits and deletes a record", async () => {
    const r = await cf.dns.records.create({
      zone_id,
      type: "A",
      name: "crud",
      content: "203.0.113.10",
      ttl: 300,
      proxied: false,
      comment: "k3sinfra:cluster=c1",
    });
    expect(r.name).toBe("crud.example.com");
    expect(r.id).toMatch(/^[0-9a-f]{32}$/);
    expect((await cf.dns.records.get(r.id, { zone_id })).comment).toBe("k3sinfra:cluster=c1");
    const put = await cf.dns.records.update(r.id, {
      zone_id,
      type: "A",
      name: "crud.example.com",
      content: "203.0.113.11",
      ttl: 1,
    });
    expect([put.content, put.ttl, put.comment]).toEqual(["203.0.113.11", 1, null]);
    const patched = await cf.dns.records.edit(r.id, {
      zone_id,
      type: "A",
      name: "crud.example.com",
      ttl: 120,
    });
    expect([patched.content, patched.ttl]).toEqual(["203.0.113.11", 120]);
    expect(await cf.dns.records.delete(r.id, { zone_id })).toEqual({ id: r.id });
    expect(await failure(cf.dns.records.get(r.id, { zone_id }))).toMatchObject({ status: 404, code: 81044 });
    expect(await failure(cf.dns.records.delete(r.id, { zone_id }))).toMatchObject({
      status: 404,
      code: 81044,
    });
  });

  it("pages until an empty page past the end", async () => {
    for (let i = 0; i < 7; i++)
      await cf.dns.records.create({ zone_id, type: "TXT", name: "paged", content: `v=${i}`, ttl: 1 });
    const before = emu.callCounts()["dns:ListDnsRecords"] ?? 0;
    const got = await all(
      cf.dns.records.list({ zone_id, name: { exact: "paged.example.com" }, per_page: 3 }),
    );
    expect(got.map((r) => r.content).sort()).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `v=${i}`));
    // Pages 1-3 hold 3+3+1 records; the client asks for page 4 and stops on its empty result.
    expect((emu.callCounts()["dns:ListDnsRecords"] ?? 0) - before).toBe(4);
    const page = await cf.dns.records.list({
      zone_id,
      name: { exact: "paged.example.com" },
      per_page: 3,
      page: 9,
    });
    expect(page.result).toEqual([]);
    expect((page.result_info as { total_count?: number }).total_count).toBe(7);
  });

  it("filters by name, type, content, comment, tags and match", async () => {
    await cf.dns.records.create({
      zone_id,
      type: "A",
      name: "f1",
      content: "198.51.100.1",
      ttl: 1,
      comment: "team=blue",
    });
    await cf.dns.records.create({ zone_id, type: "CNAME", name: "f2", content: "f1.example.com", ttl: 1 });
    const names = async (q: Omit<Cloudflare.DNS.RecordListParams, "zone_id">) =>
      (await all(cf.dns.records.list({ zone_id, ...q }))).map((r) => r.name).sort();
    expect(await names({ name: { startswith: "f" }, type: "CNAME" })).toEqual(["f2.example.com"]);
    expect(await names({ comment: { contains: "BLUE" } })).toEqual(["f1.example.com"]);
    expect(await names({ name: { startswith: "f" }, comment: { absent: "" } })).toEqual(["f2.example.com"]);
    expect(await names({ content: { exact: "198.51.100.1" } })).toEqual(["f1.example.com"]);
    expect(
      await names({ match: "any", name: { exact: "f2.example.com" }, comment: { exact: "team=blue" } }),
    ).toEqual(["f1.example.com", "f2.example.com"]);
    await cf.dns.records.create({
      zone_id: paid,
      type: "A",
      name: "t1",
      content: "198.51.100.2",
      ttl: 1,
      tags: ["owner:k3sinfra", "cluster:c1"],
    });
    const tagged = await all(cf.dns.records.list({ zone_id: paid, tag: { exact: "cluster:c1" } }));
    expect(tagged.map((r) => r.tags)).toEqual([["owner:k3sinfra", "cluster:c1"]]);
    expect(await all(cf.dns.records.list({ zone_id: paid, tag: { exact: "cluster:c2" } }))).toEqual([]);
    expect((await all(cf.dns.records.list({ zone_id: paid, tag: { present: "OWNER" } }))).length).toBe(1);
  });

  it("refuses records that clash with others at the same name (HTTP 400, not 409)", async () => {
    const base = { zone_id, name: "dup", ttl: 300 } as const;
    await cf.dns.records.create({ ...base, type: "A", content: "203.0.113.1" });
    expect(
      await failure(cf.dns.records.create({ ...base, type: "CNAME", content: "lb.example.net" })),
    ).toMatchObject({
      status: 400,
      code: 81053,
      message: "An A, AAAA, or CNAME record with that host already exists.",
    });
    expect(
      await failure(cf.dns.records.create({ ...base, type: "A", content: "203.0.113.1" })),
    ).toMatchObject({
      status: 400,
      code: 81058,
    });
    expect(
      await failure(cf.dns.records.create({ ...base, ttl: 600, type: "A", content: "203.0.113.1" })),
    ).toMatchObject({ status: 400, code: 81057 });
    // A second address at the same name is fine (round robin).
    await cf.dns.records.create({ ...base, type: "A", content: "203.0.113.2" });
    await cf.dns.records.create({ zone_id, name: "alias", ttl: 1, type: "CNAME", content: "lb.example.net" });
    expect(
      await failure(
        cf.dns.records.create({ zone_id, name: "alias", ttl: 1, type: "A", content: "203.0.113.3" }),
      ),
    ).toMatchObject({ status: 400, code: 81054 });
  });

  it("validates type, content, TTL, proxying, comments and tags", async () => {
    const a = { zone_id, name: "v", type: "A" as const, content: "203.0.113.9", ttl: 300 };
    expect(await failure(cf.dns.records.create({ ...a, type: "BOGUS" as "A" }))).toMatchObject({
      status: 400,
      code: 1004,
    });
    expect(await failure(cf.dns.records.create({ ...a, content: "300.1.1.1" }))).toMatchObject({
      code: 9005,
    });
    expect(
      await failure(cf.dns.records.create({ ...a, type: "AAAA", content: "203.0.113.9" })),
    ).toMatchObject({
      code: 9006,
    });
    expect(await failure(cf.dns.records.create({ ...a, ttl: 30 }))).toMatchObject({
      code: 1004,
      chain: 9021,
    });
    expect(await failure(cf.dns.records.create({ ...a, ttl: 90000 }))).toMatchObject({ chain: 9021 });
    expect(
      await failure(cf.dns.records.create({ ...a, type: "TXT", content: "x", proxied: true })),
    ).toMatchObject({
      chain: 9004,
    });
    expect(await failure(cf.dns.records.create({ ...a, content: "10.0.0.5", proxied: true }))).toMatchObject({
      chain: 9003,
    });
    expect(await failure(cf.dns.records.create({ ...a, comment: "x".repeat(101) }))).toMatchObject({
      code: 1004,
    });
    expect(await failure(cf.dns.records.create({ ...a, tags: ["a:b"] }))).toMatchObject({ code: 1004 });
    const proxied = await cf.dns.records.create({ ...a, ttl: 1, proxied: true, comment: "y".repeat(100) });
    expect([proxied.proxied, proxied.proxiable]).toEqual([true, true]);
    const onPro = await cf.dns.records.create({
      ...a,
      zone_id: paid,
      comment: "z".repeat(500),
      tags: ["k:v"],
    });
    expect(onPro.tags).toEqual(["k:v"]);
    expect(
      await failure(cf.dns.records.create({ ...a, zone_id: paid, name: "w", tags: ["bad name:v"] })),
    ).toMatchObject({ code: 1004 });
  });
});

describe("Cloudflare authentication", () => {
  it("rejects a missing, unknown or unauthorised token with Cloudflare's codes", async () => {
    const raw = await fetch(`${emu.endpoints.cloudflare}/zones`);
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { errors: { code: number }[] }).errors[0]?.code).toBe(9106);
    expect(await failure(all(client(emu, "not-a-token").zones.list()))).toMatchObject({
      status: 403,
      code: 9109,
    });
    expect(await failure(all(cf.dns.records.list({ zone_id: "0".repeat(32) })))).toMatchObject({
      status: 403,
      code: 10000,
    });
    expect(await failure(all(cf.dns.records.list({ zone_id: "not-a-zone" })))).toMatchObject({
      status: 400,
      code: 7003,
    });
  });
});

describe("Cloudflare rate limit", () => {
  it("answers 429 with retry-after past the per-token quota, and blocks only that token", async () => {
    const limited = await startEmulator({
      clouds: ["cloudflare"],
      timeScale: 1,
      log: () => {},
      fixtures: {
        cloudflare: { tokens: ["token-a", "token-b"], rateLimit: { requests: 3, windowSeconds: 300 } },
      },
    });
    try {
      const a = client(limited, "token-a");
      const ok = await a.zones.list().withResponse();
      expect(ok.response.headers.get("ratelimit-policy")).toBe('"default";q=3;w=300');
      await a.zones.list();
      await a.zones.list();
      try {
        await a.zones.list();
        throw new Error("expected 429");
      } catch (e) {
        const err = e as { status: number; headers: Headers; errors: { code: number }[] };
        expect(err.status).toBe(429);
        expect(err.errors[0]?.code).toBe(971);
        expect(Number(err.headers.get("retry-after"))).toBeGreaterThan(200);
      }
      expect(await failure(a.zones.list())).toMatchObject({ status: 429 });
      expect((await client(limited, "token-b").zones.list()).result.length).toBe(1);
      expect(limited.credentials.cloudflare.apiToken).toBe("token-a");
    } finally {
      await limited.stop();
    }
  });

  it("injects throttling faults as 429s the client retries", async () => {
    emu.addFault({ cloud: "cloudflare", operation: "ListZones", kind: "throttle", times: 1 });
    try {
      const retrying = new Cloudflare({
        apiToken: emu.credentials.cloudflare.apiToken,
        baseURL: emu.endpoints.cloudflare,
        maxRetries: 1,
      });
      expect((await retrying.zones.list({ name: "example.com" })).result.length).toBe(1);
      expect(
        emu
          .requestLog()
          .some((e) => e.operation === "ListZones" && e.status === 429 && e.fault === "throttle"),
      ).toBe(true);
    } finally {
      emu.clearFaults();
    }
  });
});

describe("Cloudflare inventory and persistence", () => {
  it("lists records with their zone and comment; zones only with defaults", async () => {
    const r = await cf.dns.records.create({
      zone_id: paid,
      type: "CNAME",
      name: "inv",
      content: "lb.example.net",
      ttl: 1,
      comment: "k3sinfra:cluster=c9",
      tags: ["k3sinfra-cluster:c9"],
    });
    const item = emu.inventory({ cloud: "cloudflare" }).find((i) => i.id === r.id);
    expect(item).toMatchObject({
      service: "dns",
      type: "dns-record",
      name: "inv.paid.example",
      zoneId: paid,
      comment: "k3sinfra:cluster=c9",
      tags: { "k3sinfra-cluster": "c9" },
    });
    expect(emu.inventory({ cloud: "cloudflare" }).some((i) => i.type === "zone")).toBe(false);
    expect(
      emu.inventory({ cloud: "cloudflare", includeDefaults: true }).filter((i) => i.type === "zone").length,
    ).toBe(2);
  });

  it("keeps zones and records across restarts through persistPath", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cf-emu-"));
    const persistPath = join(dir, "state.json");
    try {
      const first = await start({ persistPath });
      const zone = await zoneId(client(first), "example.com");
      const r = await client(first).dns.records.create({
        zone_id: zone,
        type: "A",
        name: "p",
        content: "203.0.113.7",
        ttl: 1,
      });
      await first.stop();
      const second = await start({ persistPath });
      try {
        expect(await zoneId(client(second), "example.com")).toBe(zone);
        const found = await all(
          client(second).dns.records.list({ zone_id: zone, name: { exact: "p.example.com" } }),
        );
        expect(found.map((x) => x.id)).toEqual([r.id]);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

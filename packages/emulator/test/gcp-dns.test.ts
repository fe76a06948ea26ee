import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.js";
import { PROJECT, raw, startGcp } from "./gcp-helpers.js";

const base = `/dns/v1/projects/${PROJECT}/managedZones`;
const a = (ip: string) => ({ name: "rancher.example.com.", type: "A", ttl: 300, rrdatas: [ip] });

describe("gcp emulator: Cloud DNS", () => {
  let e: Emulator;
  let now = 1_700_000_000_000;
  beforeAll(async () => {
    e = await startGcp({
      timeScale: 1,
      clock: () => now,
      fixtures: { gcp: { managedZones: ["example.com"] } },
    });
  });
  afterAll(() => e.stop());

  it("finds the fixture zone by DNS name", async () => {
    const res = await raw(e, "GET", `${base}?dnsName=example.com.`);
    expect(res.json.managedZones).toMatchObject([
      { name: "example-com", dnsName: "example.com.", visibility: "public" },
    ]);
  });

  it("a change is pending, then done; adding an existing record set is 409", async () => {
    const res = await raw(e, "POST", `${base}/example-com/changes`, { additions: [a("203.0.113.10")] });
    expect(res.json).toMatchObject({ kind: "dns#change", status: "pending" });
    now += 60_000;
    expect((await raw(e, "GET", `${base}/example-com/changes/${res.json.id}`)).json.status).toBe("done");
    expect(
      (await raw(e, "POST", `${base}/example-com/changes`, { additions: [a("203.0.113.11")] })).status,
    ).toBe(409);
  });

  it("a deletion must match the record set exactly (412), and a replacement is one atomic change", async () => {
    expect(
      (await raw(e, "POST", `${base}/example-com/changes`, { deletions: [a("203.0.113.99")] })).status,
    ).toBe(412);
    const swap = await raw(e, "POST", `${base}/example-com/changes`, {
      deletions: [a("203.0.113.10")],
      additions: [a("203.0.113.11")],
    });
    expect(swap.status).toBe(200);
    const sets = await raw(e, "GET", `${base}/example-com/rrsets?name=rancher.example.com.&type=A`);
    expect(sets.json.rrsets).toMatchObject([{ rrdatas: ["203.0.113.11"] }]);
  });

  it("a record outside the zone is refused", async () => {
    const res = await raw(e, "POST", `${base}/example-com/changes`, {
      additions: [{ name: "x.example.org.", type: "A", ttl: 300, rrdatas: ["203.0.113.1"] }],
    });
    expect(res.status).toBe(400);
  });
});

import type { Route53 } from "@aws-sdk/client-route-53";
import {
  clusterTags,
  DnsRecordService,
  type DnsRecordSpec,
  K3sinfraError,
  LoadBalancerService,
  NetworkService,
  resourceTags,
} from "@k3sinfra/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsClients } from "../src/index.js";
import { type Harness, networkSpec, startHarness, ZONES } from "./helpers.js";

let h: Harness;
let ALIAS: { type: "ALIAS"; dnsName: string; zoneId: string };
beforeAll(async () => {
  h = await startHarness({}, "dnst");
  // Route 53 checks that an alias target exists, so point at a real (emulated) NLB.
  const network = await h.container().resolve(NetworkService).create(networkSpec("l4"), h.ctx("network"));
  const lb = await h
    .container()
    .resolve(LoadBalancerService)
    .create(
      {
        mode: "l4",
        zones: [...ZONES],
        healthCheck: {
          protocol: "tcp",
          port: 80,
          intervalSeconds: 10,
          timeoutSeconds: 6,
          healthyThreshold: 3,
          unhealthyThreshold: 3,
        },
        idleTimeoutSeconds: 1800,
        crossZone: true,
        network,
      },
      h.ctx("load-balancer"),
    );
  ALIAS = { type: "ALIAS", dnsName: lb.alias!.dnsName, zoneId: lb.alias!.zoneId };
});
afterAll(() => h?.stop());

const r53 = async () => (await h.container().resolve(AwsClients).route53()) as Route53;
const zoneId = async () => {
  const out = await (await r53()).listHostedZonesByName({ DNSName: "example.com" });
  return out.HostedZones?.[0]?.Id?.replace("/hostedzone/", "") ?? "";
};
const recordsAt = async (name: string) => {
  const out = await (await r53()).listResourceRecordSets({ HostedZoneId: await zoneId() });
  return (out.ResourceRecordSets ?? []).filter((r) => r.Name === `${name}.`);
};
const spec = (hostname: string, target: DnsRecordSpec["target"]): DnsRecordSpec => ({
  zone: "example.com",
  hostname,
  target,
  ttl: 60,
  proxied: false,
});

describe("AwsDnsRecordService", () => {
  it("writes an alias A record and its heritage TXT in one change, idempotently", async () => {
    const svc = h.container().resolve(DnsRecordService);
    const rec = await svc.create(spec("rancher.dnst.example.com", ALIAS), h.ctx("dns-record"));
    expect(rec).toMatchObject({
      hostname: "rancher.dnst.example.com",
      type: "ALIAS",
      values: [ALIAS.dnsName],
    });
    expect(rec.zoneId).toBe(await zoneId());
    const [a] = await recordsAt("rancher.dnst.example.com");
    expect(a).toMatchObject({
      Type: "A",
      AliasTarget: { HostedZoneId: ALIAS.zoneId, DNSName: `${ALIAS.dnsName}.`, EvaluateTargetHealth: false },
    });
    expect(a?.TTL).toBeUndefined();
    const [txt] = await recordsAt("_k3sinfra.rancher.dnst.example.com");
    expect(txt?.Type).toBe("TXT");
    expect(txt?.ResourceRecords?.[0]?.Value).toMatch(/^"k3sinfra:cluster=dnst,/);

    const again = await h
      .container()
      .resolve(DnsRecordService)
      .create(spec("rancher.dnst.example.com", ALIAS), h.ctx("dns-record"));
    expect(again).toEqual(rec);
    expect(await recordsAt("rancher.dnst.example.com")).toHaveLength(1);
    expect(await svc.read(rec, h.ctx("dns-record"))).toEqual(rec);
  });

  it("changes the record type in place (alias A → CNAME → A)", async () => {
    const svc = h.container().resolve(DnsRecordService);
    const host = "switch.dnst.example.com";
    const alias = await svc.create(spec(host, ALIAS), h.ctx("dns-switch"));
    const cname = await svc.update!(
      alias,
      spec(host, { type: "CNAME", hostname: ALIAS.dnsName }),
      h.ctx("dns-switch"),
    );
    expect(cname).toMatchObject({ type: "CNAME", values: [ALIAS.dnsName], ttl: 60 });
    expect((await recordsAt(host)).map((r) => r.Type)).toEqual(["CNAME"]);
    const a = await svc.update!(
      cname,
      spec(host, { type: "A", addresses: ["203.0.113.7", "203.0.113.8"] }),
      h.ctx("dns-switch"),
    );
    expect(a).toMatchObject({ type: "A", values: ["203.0.113.7", "203.0.113.8"] });
    expect((await recordsAt(host)).map((r) => r.Type)).toEqual(["A"]);
    await svc.delete(a, h.ctx("dns-switch"));
  });

  it("refuses to take over a record it did not create, or another cluster's", async () => {
    const client = await r53();
    await client.changeResourceRecordSets({
      HostedZoneId: await zoneId(),
      ChangeBatch: {
        Changes: [
          {
            Action: "CREATE",
            ResourceRecordSet: {
              Name: "taken.example.com",
              Type: "CNAME",
              TTL: 60,
              ResourceRecords: [{ Value: "x.example.org" }],
            },
          },
        ],
      },
    });
    const svc = h.container().resolve(DnsRecordService);
    const error = await svc.create(spec("taken.example.com", ALIAS), h.ctx("dns-taken")).catch((e) => e);
    expect(K3sinfraError.is(error, "AlreadyExists")).toBe(true);
    expect(error.message).toMatch(/did not create/);

    await svc.create(spec("shared.example.com", ALIAS), h.ctx("dns-shared"));
    const intruder = {
      ...h.ctx("dns-shared"),
      cluster: "intruder",
      tags: resourceTags("intruder", "dns-record"),
    };
    await expect(svc.create(spec("shared.example.com", ALIAS), intruder)).rejects.toThrow(
      /belongs to k3sinfra cluster 'dnst'/,
    );
  });

  it("finds records by the cluster's tags through their heritage TXT", async () => {
    const svc = h.container().resolve(DnsRecordService);
    const rec = await svc.create(spec("rancher.dnst.example.com", ALIAS), h.ctx("dns-record"));
    const mine = await svc.findByTags(resourceTags(h.cluster, "dns-record"), h.ctx("dns-record"));
    expect(mine.map((r) => r.id)).toEqual([rec.id]);
    const all = await svc.findByTags(clusterTags(h.cluster), h.ctx("dns-record"));
    expect(all.map((r) => r.id)).toContain(rec.id);
    expect(await svc.findByTags(clusterTags("nobody"), h.ctx("dns-record"))).toEqual([]);
  });

  it("deletes the record and its heritage TXT together, and deleting again is fine", async () => {
    const svc = h.container().resolve(DnsRecordService);
    const rec = await svc.create(spec("rancher.dnst.example.com", ALIAS), h.ctx("dns-record"));
    await svc.delete(rec, h.ctx("dns-record"));
    await svc.delete(rec, h.ctx("dns-record"));
    expect(await recordsAt("rancher.dnst.example.com")).toEqual([]);
    expect(await recordsAt("_k3sinfra.rancher.dnst.example.com")).toEqual([]);
    expect(await svc.read(rec, h.ctx("dns-record"))).toBeUndefined();
  });

  it("says how to fix a missing hosted zone", async () => {
    const svc = h.container().resolve(DnsRecordService);
    const error = await svc
      .create({ ...spec("rancher.missing.org", ALIAS), zone: "missing.org" }, h.ctx("dns-missing"))
      .catch((e) => e);
    expect(K3sinfraError.is(error, "InvalidConfig")).toBe(true);
    expect(error.message).toMatch(/no Route 53 hosted zone named missing.org.*options.aws.hostedZoneId/s);
  });

  it("uses options.aws.hostedZoneId when given", async () => {
    const svc = h.container({ hostedZoneId: await zoneId() }).resolve(DnsRecordService);
    const rec = await svc.create(
      spec("byid.example.com", { type: "CNAME", hostname: "lb.example.net" }),
      h.ctx("dns-id"),
    );
    expect(rec.zoneId).toBe(await zoneId());
    await svc.delete(rec, h.ctx("dns-id"));
    expect(await recordsAt("byid.example.com")).toEqual([]);
  });
});

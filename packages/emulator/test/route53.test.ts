import { DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import { CreateLoadBalancerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  ChangeResourceRecordSetsCommand,
  ChangeTagsForResourceCommand,
  CreateHostedZoneCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  ListTagsForResourceCommand,
  waitUntilResourceRecordSetsChanged,
} from "@aws-sdk/client-route-53";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, errorOf, fast, start } from "./helpers.js";

let c: Clients;
beforeAll(async () => {
  c = await start({ fixtures: { aws: { hostedZones: ["example.com"] } } });
});
afterAll(async () => {
  await c.emu.stop();
});

async function zoneId(): Promise<string> {
  const z = await c.r53.send(new ListHostedZonesByNameCommand({ DNSName: "example.com", MaxItems: 1 }));
  expect(z.HostedZones?.[0]?.Name).toBe("example.com.");
  return z.HostedZones![0]!.Id!;
}

describe("Route 53", () => {
  it("finds the fixture zone and keeps it out of the default inventory", async () => {
    const id = await zoneId();
    expect(id).toMatch(/^\/hostedzone\/Z[0-9A-Z]+$/);
    const z = await c.r53.send(new GetHostedZoneCommand({ Id: id }));
    expect(z.DelegationSet?.NameServers).toHaveLength(4);
    expect(c.emu.inventory({ cloud: "aws" }).filter((i) => i.service === "route53")).toEqual([]);
    expect(c.emu.inventory({ includeDefaults: true }).some((i) => i.type === "hosted-zone")).toBe(true);
  });

  it("upserts, waits for INSYNC, lists and deletes records with the real errors", async () => {
    const HostedZoneId = await zoneId();
    const rrs = {
      Name: "rancher.example.com",
      Type: "CNAME" as const,
      TTL: 60,
      ResourceRecords: [{ Value: "lb-1.elb.us-east-1.amazonaws.com" }],
    };
    const up = await c.r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId,
        ChangeBatch: { Changes: [{ Action: "UPSERT", ResourceRecordSet: rrs }] },
      }),
    );
    expect(up.ChangeInfo?.Status).toBe("PENDING");
    const w = await waitUntilResourceRecordSetsChanged(
      { client: c.r53, ...fast },
      { Id: up.ChangeInfo!.Id! },
    );
    expect(w.state).toBe("SUCCESS");
    const ch = await c.r53.send(new GetChangeCommand({ Id: up.ChangeInfo!.Id! }));
    expect(ch.ChangeInfo?.Status).toBe("INSYNC");

    const create = await errorOf(
      c.r53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId,
          ChangeBatch: { Changes: [{ Action: "CREATE", ResourceRecordSet: rrs }] },
        }),
      ),
    );
    expect(create.name).toBe("InvalidChangeBatch");
    expect(create.message).toBe(
      "[Tried to create resource record set [name='rancher.example.com.', type='CNAME'] but it already exists]",
    );

    const list = await c.r53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId,
        StartRecordName: "rancher.example.com",
        StartRecordType: "CNAME",
        MaxItems: 1,
      }),
    );
    expect(list.ResourceRecordSets?.[0]).toMatchObject({
      Name: "rancher.example.com.",
      Type: "CNAME",
      TTL: 60,
    });
    const inv = c.emu.inventory().filter((i) => i.type === "resource-record-set");
    expect(inv).toHaveLength(1);
    expect(inv[0]?.tags).toEqual({});
    expect(`/hostedzone/${inv[0]?.zoneId}`).toBe(HostedZoneId);

    const txt = {
      Name: "_owner.example.com",
      Type: "TXT" as const,
      TTL: 300,
      ResourceRecords: [{ Value: '"k3sinfra=c1"' }],
    };
    await c.r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId,
        ChangeBatch: { Changes: [{ Action: "CREATE", ResourceRecordSet: txt }] },
      }),
    );
    // One TXT string holds at most 255 characters; two strings of 255 are fine.
    const upsertTxt = (Value: string) =>
      c.r53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId,
          ChangeBatch: {
            Changes: [
              {
                Action: "UPSERT",
                ResourceRecordSet: { ...txt, Name: "_long.example.com", ResourceRecords: [{ Value }] },
              },
            ],
          },
        }),
      );
    const long = await errorOf(upsertTxt(`"${"a".repeat(256)}"`));
    expect(long.name).toBe("InvalidChangeBatch");
    expect(long.message).toMatch(/CharacterStringTooLong/);
    await upsertTxt(`"${"a".repeat(255)}" "${"b".repeat(255)}"`);
    await c.r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: "DELETE",
              ResourceRecordSet: {
                ...txt,
                Name: "_long.example.com",
                ResourceRecords: [{ Value: `"${"a".repeat(255)}" "${"b".repeat(255)}"` }],
              },
            },
          ],
        },
      }),
    );
    const all = await c.r53.send(new ListResourceRecordSetsCommand({ HostedZoneId }));
    expect(all.ResourceRecordSets?.map((r) => r.Type)).toEqual(["NS", "SOA", "TXT", "CNAME"]);
    const page1 = await c.r53.send(new ListResourceRecordSetsCommand({ HostedZoneId, MaxItems: 2 }));
    expect(page1.IsTruncated).toBe(true);
    expect(page1.NextRecordName).toBe("_owner.example.com.");

    await c.r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId,
        ChangeBatch: { Changes: [{ Action: "DELETE", ResourceRecordSet: rrs }] },
      }),
    );
    const missing = await errorOf(
      c.r53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId,
          ChangeBatch: { Changes: [{ Action: "DELETE", ResourceRecordSet: rrs }] },
        }),
      ),
    );
    expect(missing.message).toBe(
      "[Tried to delete resource record set [name='rancher.example.com.', type='CNAME'] but it was not found]",
    );

    const apex = await errorOf(
      c.r53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId,
          ChangeBatch: {
            Changes: [{ Action: "UPSERT", ResourceRecordSet: { ...rrs, Name: "example.com" } }],
          },
        }),
      ),
    );
    expect(apex.name).toBe("InvalidChangeBatch");
    const bothForms = await errorOf(
      c.r53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId,
          ChangeBatch: {
            Changes: [
              {
                Action: "UPSERT",
                ResourceRecordSet: {
                  ...rrs,
                  Type: "A",
                  AliasTarget: { HostedZoneId: "Z26RNL4JYFTOTI", DNSName: "x", EvaluateTargetHealth: true },
                },
              },
            ],
          },
        }),
      ),
    );
    expect(bothForms.name).toBe("InvalidInput");
    const badTtl = await errorOf(
      c.r53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId,
          ChangeBatch: { Changes: [{ Action: "UPSERT", ResourceRecordSet: { ...rrs, TTL: -1 } }] },
        }),
      ),
    );
    expect(badTtl.name).toBe("InvalidInput");
  });

  it("accepts an alias to a load balancer only with that load balancer's canonical hosted zone", async () => {
    const HostedZoneId = await zoneId();
    const { Subnets = [] } = await c.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }),
    );
    const { LoadBalancers = [] } = await c.elb.send(
      new CreateLoadBalancerCommand({
        Name: "alias-nlb",
        Type: "network",
        Subnets: Subnets.slice(0, 2).map((s) => s.SubnetId!),
      }),
    );
    const nlb = LoadBalancers[0]!;
    const alias = (zone: string) =>
      c.r53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId,
          ChangeBatch: {
            Changes: [
              {
                Action: "UPSERT",
                ResourceRecordSet: {
                  Name: "alias.example.com",
                  Type: "A",
                  AliasTarget: { HostedZoneId: zone, DNSName: nlb.DNSName!, EvaluateTargetHealth: false },
                },
              },
            ],
          },
        }),
      );
    // Z35SXDOTRQ7X7K is us-east-1's ALB zone: the NLB's name does not lie in it.
    const wrong = await errorOf(alias("Z35SXDOTRQ7X7K"));
    expect(wrong.name).toBe("InvalidChangeBatch");
    expect(wrong.message).toMatch(/does not lie within the target zone/);
    expect(nlb.CanonicalHostedZoneId).toBe("Z26RNL4JYFTOTI");
    await expect(alias(nlb.CanonicalHostedZoneId!)).resolves.toMatchObject({ ChangeInfo: {} });
  });

  it("creates zones idempotently by CallerReference and tags them", async () => {
    const a = await c.r53.send(
      new CreateHostedZoneCommand({ Name: "k3s.test.org", CallerReference: "ref-1" }),
    );
    const b = await c.r53.send(
      new CreateHostedZoneCommand({ Name: "k3s.test.org", CallerReference: "ref-1" }),
    );
    expect(b.HostedZone?.Id).toBe(a.HostedZone?.Id);
    const e = await errorOf(
      c.r53.send(new CreateHostedZoneCommand({ Name: "other.test.org", CallerReference: "ref-1" })),
    );
    expect(e.name).toBe("HostedZoneAlreadyExists");
    const ResourceId = a.HostedZone!.Id!.replace("/hostedzone/", "");
    await c.r53.send(
      new ChangeTagsForResourceCommand({
        ResourceType: "hostedzone",
        ResourceId,
        AddTags: [{ Key: "cluster", Value: "c1" }],
      }),
    );
    const t = await c.r53.send(new ListTagsForResourceCommand({ ResourceType: "hostedzone", ResourceId }));
    expect(t.ResourceTagSet?.Tags).toEqual([{ Key: "cluster", Value: "c1" }]);
    expect(c.emu.inventory({ tags: { cluster: "c1" } }).map((i) => i.type)).toEqual(["hosted-zone"]);
    const bad = await errorOf(c.r53.send(new GetHostedZoneCommand({ Id: "ZNOPE" })));
    expect(bad.name).toBe("NoSuchHostedZone");
  });
});

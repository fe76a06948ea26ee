/**
 * Amazon Route 53 (REST-XML, API 2013-04-01; global): hosted zones, record sets, changes. The state,
 * fixtures, inventory and response shapes; the wire protocol is protocol.ts, the operations zones.ts and records.ts.
 * API reference: https://docs.aws.amazon.com/Route53/latest/APIReference/Welcome.html
 */
import type { CloudContext } from "../../cloud.js";
import type { InventoryItem } from "../../types.js";
import { xlist } from "../../xml.js";
import { iso, phase, stableHex, type Tags, UPPER_ALNUM } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import type { AwsLookups, ServiceKernel } from "../kernel/lookups.js";
import {
  type Change,
  fqdn,
  type HostedZone,
  noSuchZone,
  type R53Result,
  type RecordSet,
  ROUTE53_DURATIONS,
  type Route53State,
  stripPrefix,
} from "./model.js";

export class Route53Service {
  constructor(private readonly k: ServiceKernel<Route53State>) {}

  get ctx(): CloudContext {
    return this.k.ctx;
  }

  get lookups(): AwsLookups {
    return this.k.lookups;
  }

  get state(): Route53State {
    return this.k.state();
  }

  changeStatus(changeId: string | undefined, now: number): string {
    const c = changeId ? this.state.changes[changeId] : undefined;
    if (!c) return "INSYNC";
    return phase(now, c.submittedAt, this.ctx.timeScale, [["PENDING", ROUTE53_DURATIONS.pending]], "INSYNC");
  }

  /** Pre-existing public zones ("the user's domain"); idempotent across restores. */
  seedFixtures(names: string[]): void {
    for (const raw of names) {
      const name = fqdn(raw);
      if (Object.values(this.state.zones).some((z) => z.name === name && !z.privateZone)) continue;
      const id = `Z0${stableHex(`zone:${name}`, 18).toUpperCase()}`;
      this.state.zones[id] = this.newZone(id, name, `fixture:${name}`, false, true, 0);
    }
  }

  newZone(
    id: string,
    name: string,
    callerReference: string,
    privateZone: boolean,
    fixture: boolean,
    now: number,
  ): HostedZone {
    const h = stableHex(`ns:${id}`, 8);
    const n = (i: number) => parseInt(h.slice(i * 2, i * 2 + 2), 16);
    // Four name servers of a delegation set, one per TLD (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/SOA-NSrecords.html).
    const ns = [
      `ns-${n(0) * 8}.awsdns-${String(n(0) % 64).padStart(2, "0")}.com.`,
      `ns-${512 + n(1) * 2}.awsdns-${String(n(1) % 64).padStart(2, "0")}.net.`,
      `ns-${1024 + n(2) * 2}.awsdns-${String(n(2) % 64).padStart(2, "0")}.org.`,
      `ns-${1536 + n(3) * 2}.awsdns-${String(n(3) % 64).padStart(2, "0")}.co.uk.`,
    ];
    return {
      id,
      name,
      callerReference,
      privateZone,
      fixture,
      tags: {},
      nameServers: ns,
      records: [
        { name, type: "NS", ttl: 172800, values: ns },
        {
          name,
          type: "SOA",
          ttl: 900,
          values: [`${ns[0]} awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400`],
        },
      ],
      createdAt: now,
    };
  }

  inventory(includeDefaults: boolean, now: number): InventoryItem[] {
    const out: InventoryItem[] = [];
    for (const z of Object.values(this.state.zones)) {
      if (includeDefaults || !z.fixture) {
        out.push({
          cloud: "aws",
          service: "route53",
          type: "hosted-zone",
          id: z.id,
          name: z.name,
          state: "active",
          tags: { ...z.tags },
        });
      }
      for (const r of z.records) {
        if (r.name === z.name && (r.type === "SOA" || r.type === "NS")) continue;
        out.push({
          cloud: "aws",
          service: "route53",
          type: "resource-record-set",
          id: `${z.id}/${r.name}/${r.type}${r.setIdentifier ? `/${r.setIdentifier}` : ""}`,
          name: r.name,
          state: this.changeStatus(r.changeId, now),
          tags: {},
          zoneId: z.id,
        });
      }
    }
    return out;
  }

  zone(id: string): HostedZone {
    const z = this.state.zones[stripPrefix(id)];
    if (!z) throw noSuchZone(stripPrefix(id));
    return z;
  }

  zoneOut(z: HostedZone) {
    return {
      Id: `/hostedzone/${z.id}`,
      Name: z.name,
      CallerReference: z.callerReference,
      Config: { Comment: z.comment, PrivateZone: z.privateZone },
      ResourceRecordSetCount: z.records.length,
    };
  }

  changeOut(c: Change, now: number) {
    return {
      Id: `/change/${c.id}`,
      Status: this.changeStatus(c.id, now),
      SubmittedAt: iso(c.submittedAt),
      Comment: c.comment,
    };
  }

  recordOut(r: RecordSet) {
    return {
      Name: r.name,
      Type: r.type,
      SetIdentifier: r.setIdentifier,
      Weight: r.weight,
      TTL: r.alias ? undefined : r.ttl,
      ResourceRecords: r.values
        ? xlist(
            "ResourceRecord",
            r.values.map((Value) => ({ Value })),
          )
        : undefined,
      AliasTarget: r.alias
        ? {
            HostedZoneId: r.alias.hostedZoneId,
            DNSName: r.alias.dnsName,
            EvaluateTargetHealth: r.alias.evaluateTargetHealth,
          }
        : undefined,
    };
  }

  newChange(now: number, comment?: string): Change {
    const c: Change = { id: `C${this.ctx.rng.chars(20, UPPER_ALNUM)}`, submittedAt: now, comment };
    this.state.changes[c.id] = c;
    return c;
  }

  createdZone(z: HostedZone, c: Change, now: number): R53Result {
    return {
      root: "CreateHostedZoneResponse",
      status: 201,
      headers: { Location: `https://route53.amazonaws.com/2013-04-01/hostedzone/${z.id}` },
      body: {
        HostedZone: this.zoneOut(z),
        ChangeInfo: this.changeOut(c, now),
        DelegationSet: z.privateZone
          ? undefined
          : {
              NameServers: xlist(
                "NameServer",
                z.nameServers.map((n) => n.slice(0, -1)),
              ),
            },
        VPC: z.vpc ? { VPCRegion: z.vpc.region, VPCId: z.vpc.id } : undefined,
      },
    };
  }

  tagsOf(type: string, id: string): Tags {
    if (type !== "hostedzone")
      throw new AwsError("InvalidInput", `Tagging is emulated for hosted zones only (got ${type})`);
    return this.zone(id).tags;
  }
}

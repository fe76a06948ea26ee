import assert from "node:assert/strict";
import type { DnsRecordSpec, DnsRecordState, DnsTarget } from "../../resources/dns-record.js";
import { assertAdopted, assertDeletedTwice, assertFindByTags, type Kit } from "./kit.js";

type RecordType = DnsTarget["type"];

const norm = (v: string) => v.toLowerCase().replace(/\.$/, "");

/** What a record pointing at `target` must hold. */
const expected = (target: DnsTarget): { type: RecordType; values: string[] } => ({
  type: target.type,
  values: (target.type === "A"
    ? [...target.addresses]
    : target.type === "CNAME"
      ? [target.hostname]
      : [target.dnsName]
  )
    .map(norm)
    .sort(),
});

const targetFor = (k: Kit, type: RecordType): DnsTarget => {
  const given = k.o.dns?.target;
  if (given?.type === type) return given;
  const lb = k.made.lb;
  if (type === "A") return { type, addresses: ["203.0.113.10", "203.0.113.11"] };
  if (type === "CNAME") return { type, hostname: lb?.hostname ?? `lb-${k.cluster}.example.net` };
  assert.ok(
    lb?.alias,
    "an ALIAS record needs the suite's load balancer with an alias (loadBalancer toggle on)",
  );
  return { type, dnsName: lb.alias.dnsName, zoneId: lb.alias.zoneId };
};

/** The record holds exactly the target: in the returned state, through `read`, and in the DNS service. */
async function assertPointsAt(k: Kit, state: DnsRecordState, target: DnsTarget, how: string): Promise<void> {
  const want = expected(target);
  const svc = k.svc("dns");
  const check = (s: DnsRecordState | undefined, where: string) => {
    assert.ok(s, `${where}: no record`);
    assert.equal(s.type, want.type, `${where}: record type`);
    assert.deepEqual(
      s.values.map(norm).sort(),
      want.values,
      `${where}: the record must hold exactly the target`,
    );
  };
  check(state, `${how}: returned state`);
  check(await svc.read(state, k.ctx(`dns-${want.type.toLowerCase()}`)), `${how}: read`);
  const record = k.h().record;
  if (record) {
    const live = await record.call(k.h(), state);
    assert.ok(live, `${how}: the DNS service has no such record`);
    assert.equal(live.type, want.type, `${how}: the DNS service holds a ${live.type} record`);
    assert.deepEqual(
      live.values.map(norm).sort(),
      want.values,
      `${how}: the DNS service holds [${live.values}], not the target`,
    );
    assert.ok(live.inSync, `${how}: create returned before the change was in sync`);
  }
}

export function dnsCases(k: Kit): void {
  for (const type of k.t.dnsRecordTypes) {
    const resource = `dns-${type.toLowerCase()}`;
    k.o.it(
      `dns (${type}): create points at exactly the target, idempotent, adopted, find by tags, update, delete twice`,
      async () => {
        assert.ok(k.o.dns, "dns options are required for the DNS contract");
        const svc = k.svc("dns");
        const spec: DnsRecordSpec = {
          zone: k.o.dns.zone,
          hostname: `${k.cluster}-${type.toLowerCase()}.${k.o.dns.zone}`,
          target: targetFor(k, type),
          ttl: 300,
          proxied: false,
        };
        const a = await svc.create(spec, k.ctx(resource));
        assert.equal(norm(a.hostname), spec.hostname, "the record's host name");
        await assertPointsAt(k, a, spec.target, "create");
        const b = await svc.create(spec, k.ctx(resource));
        assert.equal(b.id, a.id, "same record on a repeated create");
        await assertAdopted(k, "dns", spec, resource, a.id);
        await assertFindByTags(k, svc, resource, [a.id]);
        let last = a;
        if (type === "A" && svc.update && svc.updatable.includes("target")) {
          const moved: DnsTarget = { type: "A", addresses: ["203.0.113.12"] };
          last = await svc.update(a, { ...spec, target: moved }, k.ctx(resource));
          await assertPointsAt(k, last, moved, "update");
        }
        await assertDeletedTwice(k, svc, last, resource);
        const record = k.h().record;
        if (record)
          assert.equal(await record.call(k.h(), last), undefined, "the DNS service still has the record");
      },
      k.timeout,
    );
  }
}

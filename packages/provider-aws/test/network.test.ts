import type { EC2 } from "@aws-sdk/client-ec2";
import { K3sinfraError, NetworkService, NodeService, resourceTags } from "@k3sinfra/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsClients } from "../src/index.js";
import { type Harness, networkSpec, startHarness, ZONES } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, "netw");
});
afterAll(() => h?.stop());

const groupsOf = (cluster: string, resource = "network") =>
  h.emulator.inventory({ tags: resourceTags(cluster, resource) }).filter((i) => i.type === "security-group");

describe("AwsNetworkService", () => {
  it("builds the default VPC's subnets and three groups with exactly the spec's rules", async () => {
    const svc = h.container().resolve(NetworkService);
    const state = await svc.create(networkSpec("l4"), h.ctx("network"));
    expect(state.networkId).toMatch(/^vpc-/);
    expect(state.subnets.map((s) => s.zone)).toEqual([...ZONES]);
    expect(state.subnets.every((s) => s.id.startsWith("subnet-") && s.cidr)).toBe(true);
    expect(
      groupsOf(h.cluster)
        .map((g) => g.name)
        .sort(),
    ).toEqual(["k3s-netw-net-db", "k3s-netw-net-lb", "k3s-netw-net-nodes"].sort());

    const ec2 = (await h.container().resolve(AwsClients).ec2()) as EC2;
    const { SecurityGroups = [] } = await ec2.describeSecurityGroups({
      GroupIds: Object.values(state.groups),
    });
    const perms = (id: string) => SecurityGroups.find((g) => g.GroupId === id)?.IpPermissions ?? [];
    const all = SecurityGroups.flatMap((g) => g.IpPermissions ?? []);
    // VXLAN, kubelet and MySQL are reachable only from the nodes' group, never from address ranges.
    for (const [protocol, port] of [
      ["udp", 8472],
      ["tcp", 10250],
      ["tcp", 3306],
    ] as const) {
      const matching = all.filter((p) => p.IpProtocol === protocol && p.FromPort === port);
      expect(matching.length).toBeGreaterThan(0);
      for (const p of matching) {
        expect(p.IpRanges ?? []).toEqual([]);
        expect((p.UserIdGroupPairs ?? []).map((g) => g.GroupId)).toEqual([state.groups.nodes]);
      }
    }
    const db = perms(state.groups.datastore);
    expect(db).toHaveLength(1);
    expect(db[0]).toMatchObject({ IpProtocol: "tcp", FromPort: 3306, ToPort: 3306 });
    // L4: the LB group admits clients on 80/443 and the nodes admit both the LB group and the clients.
    const lbPorts = perms(state.groups.loadBalancer)
      .map((p) => p.FromPort)
      .sort();
    expect(lbPorts).toEqual([443, 80]);
    const web = perms(state.groups.nodes).filter((p) => p.FromPort === 443);
    expect(web.flatMap((p) => p.IpRanges ?? []).map((r) => r.CidrIp)).toEqual(["0.0.0.0/0"]);
    expect(web.flatMap((p) => p.UserIdGroupPairs ?? []).map((g) => g.GroupId)).toEqual([
      state.groups.loadBalancer,
    ]);
    expect(state.ruleCount).toBe(networkSpec("l4").rules.length);
  });

  it("is idempotent and adopts after a crash: no duplicate groups", async () => {
    const first = await h.container().resolve(NetworkService).create(networkSpec("l4"), h.ctx("network"));
    const before = groupsOf(h.cluster)
      .map((g) => g.id)
      .sort();
    // A fresh container is a fresh process: it only has the context, not the earlier state.
    const again = await h.container().resolve(NetworkService).create(networkSpec("l4"), h.ctx("network"));
    expect(again).toEqual(first);
    expect(
      groupsOf(h.cluster)
        .map((g) => g.id)
        .sort(),
    ).toEqual(before);
  });

  it("finds the network by tags, and nothing with another cluster's tags", async () => {
    const svc = h.container().resolve(NetworkService);
    const state = await svc.create(networkSpec("l4"), h.ctx("network"));
    const found = await svc.findByTags(resourceTags(h.cluster, "network"), h.ctx("network"));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ id: state.id, networkId: state.networkId, groups: state.groups });
    expect(found[0]?.subnets.map((s) => s.id)).toEqual(state.subnets.map((s) => s.id));
    expect(await svc.findByTags(resourceTags("other", "network"), h.ctx("network"))).toEqual([]);
  });

  it("updates rules in place: adds what is new and revokes what is gone", async () => {
    const svc = h.container().resolve(NetworkService);
    const state = await svc.create(networkSpec("l4"), h.ctx("network"));
    const withAdmin = networkSpec("l4", ["198.51.100.0/24"]);
    const updated = await svc.update!(state, withAdmin, h.ctx("network"));
    expect(updated.ruleCount).toBe(withAdmin.rules.length);
    const ec2 = (await h.container().resolve(AwsClients).ec2()) as EC2;
    const cidrs = async () => {
      const out = await ec2.describeSecurityGroups({ GroupIds: [state.groups.nodes] });
      return (out.SecurityGroups?.[0]?.IpPermissions ?? []).flatMap((p) =>
        (p.IpRanges ?? []).map((r) => `${p.FromPort}:${r.CidrIp}`),
      );
    };
    expect(await cidrs()).toEqual(expect.arrayContaining(["6443:198.51.100.0/24", "22:198.51.100.0/24"]));
    const back = await svc.update!(updated, networkSpec("l4"), h.ctx("network"));
    expect(back.ruleCount).toBe(networkSpec("l4").rules.length);
    expect((await cidrs()).filter((c) => c.includes("198.51.100.0"))).toEqual([]);
    expect(await svc.read(back, h.ctx("network"))).toMatchObject({ ruleCount: back.ruleCount });
  });

  it("revokes rules added by hand over a port range or from IPv6, not only single-port IPv4 ones", async () => {
    const svc = h.container().resolve(NetworkService);
    const state = await svc.create(networkSpec("l4"), h.ctx("network"));
    const ec2 = (await h.container().resolve(AwsClients).ec2()) as EC2;
    // Someone opens every TCP port to the world (IPv4 and IPv6): kubelet and the K3s API with it.
    await ec2.authorizeSecurityGroupIngress({
      GroupId: state.groups.nodes,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 0, ToPort: 65535, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
        { IpProtocol: "tcp", FromPort: 443, ToPort: 443, Ipv6Ranges: [{ CidrIpv6: "::/0" }] },
      ],
    });
    const drifted = await svc.read(state, h.ctx("network"));
    expect(drifted?.ruleCount).toBe(networkSpec("l4").rules.length + 2);
    const converged = await svc.update!(state, networkSpec("l4"), h.ctx("network"));
    const out = await ec2.describeSecurityGroups({ GroupIds: [state.groups.nodes] });
    const perms = out.SecurityGroups?.[0]?.IpPermissions ?? [];
    expect(perms.filter((p) => p.FromPort !== p.ToPort)).toEqual([]);
    expect(perms.flatMap((p) => p.Ipv6Ranges ?? [])).toEqual([]);
    expect(converged.ruleCount).toBe(networkSpec("l4").rules.length);
    expect((await svc.read(state, h.ctx("network")))?.ruleCount).toBe(networkSpec("l4").rules.length);
  });

  it("writes rule descriptions EC2 accepts, whatever characters the spec's descriptions use", async () => {
    const svc = h.container().resolve(NetworkService);
    const spec = networkSpec("l4");
    const rules = spec.rules.map((r) => ({ ...r, description: `${r.description}: Rancher's — "é"` }));
    const state = await svc.create({ ...spec, rules }, h.ctx("net-desc"));
    const ec2 = (await h.container().resolve(AwsClients).ec2()) as EC2;
    const out = await ec2.describeSecurityGroups({ GroupIds: [state.groups.datastore] });
    const pair = out.SecurityGroups?.[0]?.IpPermissions?.[0]?.UserIdGroupPairs?.[0];
    expect(pair?.Description).toMatch(/^MySQL from K3s servers only: Rancher s +$/);
    await svc.delete(state, h.ctx("net-desc"));
  });

  it("adds a zone in place: one more subnet, the same groups", async () => {
    const svc = h.container().resolve(NetworkService);
    const state = await svc.create(networkSpec("l4"), h.ctx("network"));
    const wider = await svc.update!(
      state,
      { ...networkSpec("l4"), zones: [...ZONES, "us-east-1c"] },
      h.ctx("network"),
    );
    expect(wider.subnets.map((s) => s.zone)).toEqual([...ZONES, "us-east-1c"]);
    expect(wider.groups).toEqual(state.groups);
    const found = await svc.findByTags(resourceTags(h.cluster, "network"), h.ctx("network"));
    expect(found[0]?.subnets).toHaveLength(3);
    await svc.update!(wider, networkSpec("l4"), h.ctx("network"));
  });

  it("refuses to open VXLAN or MySQL to address ranges, before calling AWS", async () => {
    const svc = h.container().resolve(NetworkService);
    const spec = networkSpec("l4");
    const bad = {
      ...spec,
      rules: [
        ...spec.rules,
        {
          group: "nodes",
          protocol: "udp",
          port: 8472,
          from: { cidrs: ["0.0.0.0/0"] },
          description: "bad",
        } as const,
      ],
    };
    await expect(svc.create(bad, h.ctx("bad-network"))).rejects.toThrow(/Refusing to open 8472\/udp/);
    const mysql = {
      ...spec,
      rules: [
        {
          group: "datastore",
          protocol: "tcp",
          port: 3306,
          from: { cidrs: ["10.0.0.0/8"] },
          description: "x",
        } as const,
      ],
    };
    await expect(svc.create(mysql, h.ctx("bad-network"))).rejects.toThrow(/Refusing to open 3306\/tcp/);
    expect(groupsOf(h.cluster, "bad-network")).toEqual([]);
  });

  it("waits out DependencyViolation while an instance still uses a group, then deletes", async () => {
    const c = h.container();
    const svc = c.resolve(NetworkService);
    const state = await svc.create(networkSpec("l7"), h.ctx("net2"));
    const nodes = c.resolve(NodeService);
    const node = await nodes.create(
      {
        index: 0,
        zone: ZONES[0],
        size: { vcpus: 2, memoryGiB: 4 },
        diskGiB: 30,
        image: "ubuntu-24.04",
        userData: "#cloud-config\n",
        userDataHash: "h",
        network: state,
      },
      h.ctx("node-9"),
    );
    const reports: string[] = [];
    const deleting = svc.delete(state, h.ctx("net2", { report: (m) => reports.push(m) }));
    // The instance still holds the nodes group: the delete must keep retrying, not fail.
    await new Promise((r) => setTimeout(r, 100));
    await nodes.delete(node, h.ctx("node-9"));
    await deleting;
    expect(reports.some((m) => m.includes("still in use"))).toBe(true);
    expect(groupsOf(h.cluster, "net2")).toEqual([]);
    expect(await svc.read(state, h.ctx("net2"))).toBeUndefined();
  });

  it("gives up DependencyViolation waits when the signal aborts", async () => {
    const c = h.container();
    const svc = c.resolve(NetworkService);
    const state = await svc.create(networkSpec("l4"), h.ctx("net3"));
    const nodes = c.resolve(NodeService);
    const node = await nodes.create(
      {
        index: 0,
        zone: ZONES[1],
        size: { vcpus: 2, memoryGiB: 4 },
        diskGiB: 30,
        image: "ubuntu-24.04",
        userData: "#cloud-config\n",
        userDataHash: "h",
        network: state,
      },
      h.ctx("node-8"),
    );
    const error = await svc
      .delete(state, h.ctx("net3", { signal: AbortSignal.timeout(300) }))
      .catch((e) => e);
    expect(K3sinfraError.is(error, "Aborted")).toBe(true);
    await nodes.delete(node, h.ctx("node-8"));
    await svc.delete(state, h.ctx("net3"));
    expect(groupsOf(h.cluster, "net3")).toEqual([]);
  });

  it("deletes the network, and deleting it again is fine", async () => {
    const svc = h.container().resolve(NetworkService);
    const state = await svc.create(networkSpec("l4"), h.ctx("network"));
    await svc.delete(state, h.ctx("network"));
    await svc.delete(state, h.ctx("network"));
    expect(groupsOf(h.cluster)).toEqual([]);
    expect(await svc.read(state, h.ctx("network"))).toBeUndefined();
    // The default VPC and its subnets stay.
    const ec2 = (await h.container().resolve(AwsClients).ec2()) as EC2;
    const vpcs = await ec2.describeVpcs({ VpcIds: [state.networkId] });
    expect(vpcs.Vpcs).toHaveLength(1);
  });
});

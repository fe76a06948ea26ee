/**
 * Drift made through the SDK behind the provider's back (as a user in the console would) is visible in
 * `read`/`getTargets`, and `update`/`setTargets` repair it. Every wait polls for a state; nothing asserts
 * on elapsed time.
 */
import type { EC2 } from "@aws-sdk/client-ec2";
import type { ElasticLoadBalancingV2 } from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  LoadBalancerService,
  type LoadBalancerState,
  NetworkService,
  type NetworkState,
  NodeService,
  type NodeSpec,
  type NodeState,
  type TargetsState,
  waitUntil,
} from "@k3sinfra/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, networkSpec, startHarness, ZONES } from "./helpers.js";

let h: Harness;
let network: NetworkState;
let nodeSpecs: NodeSpec[];
let nodes: NodeState[];
let ec2: EC2;

beforeAll(async () => {
  h = await startHarness({}, "drift");
  const c = h.container();
  network = await c.resolve(NetworkService).create(networkSpec("l4"), h.ctx("network"));
  nodeSpecs = ZONES.map((zone, index) => ({
    index,
    zone,
    size: { vcpus: 2, memoryGiB: 4 },
    diskGiB: 30,
    image: "ubuntu-24.04",
    userData: "#cloud-config\n",
    userDataHash: "h",
    network,
  }));
  nodes = await Promise.all(nodeSpecs.map((s, i) => c.resolve(NodeService).create(s, h.ctx(`node-${i}`))));
  ec2 = (await c.resolve(NodeService).native()) as EC2;
});
afterAll(() => h?.stop());

const poll = <T>(what: string, read: () => Promise<T>, done: (v: T) => boolean): Promise<T> =>
  waitUntil(
    async () => {
      const v = await read();
      return done(v) ? { state: "SUCCESS", value: v } : { state: "RETRY", reason: what };
    },
    { description: what, maxWaitMs: 60_000, minDelayMs: 5, maxDelayMs: 50 },
  );

describe("nodes", () => {
  it("reads a stopped instance with its live status and starts it again on update", async () => {
    const svc = h.container().resolve(NodeService);
    const node = nodes[0]!;
    expect(node.publicIp).toBeDefined();
    await ec2.stopInstances({ InstanceIds: [node.id] });
    const live = await svc.read(node, h.ctx("node-0"));
    expect(["stopping", "stopped"]).toContain(live?.status);
    const stopped = await poll(
      "stopped",
      () => svc.read(node, h.ctx("node-0")),
      (n) => n?.status === "stopped",
    );
    expect(stopped?.publicIp).toBeUndefined();

    const repaired = await svc.update!(stopped!, nodeSpecs[0]!, h.ctx("node-0"));
    expect(repaired).toMatchObject({ id: node.id, status: "running", privateIp: node.privateIp });
    // A stop/start gives the instance a new public IPv4.
    expect(repaired.publicIp).toBeDefined();
    expect(repaired.publicIp).not.toBe(node.publicIp);
    expect(h.emulator.inventory().find((i) => i.id === node.id)?.state).toBe("running");
    expect(h.emulator.callCounts()["ec2:StartInstances"]).toBe(1);
    nodes[0] = repaired;
  });

  it("repairs an instance still stopping: waits for stopped, then starts it", async () => {
    const svc = h.container().resolve(NodeService);
    const node = nodes[0]!;
    await ec2.stopInstances({ InstanceIds: [node.id] });
    const repaired = await svc.update!(node, nodeSpecs[0]!, h.ctx("node-0"));
    expect(repaired.status).toBe("running");
    nodes[0] = repaired;
  });

  it("reads a terminated instance as gone, and update refuses to revive it", async () => {
    const c = h.container();
    const svc = c.resolve(NodeService);
    const extra = await svc.create({ ...nodeSpecs[1]!, index: 9 }, h.ctx("node-9"));
    await ec2.terminateInstances({ InstanceIds: [extra.id] });
    expect(await svc.read(extra, h.ctx("node-9"))).toBeUndefined();
    await expect(svc.update!(extra, nodeSpecs[1]!, h.ctx("node-9"))).rejects.toThrow(/must be replaced/);
  });
});

describe("network", () => {
  it("reads an untouched network equal to what create recorded", async () => {
    const read = await h.container().resolve(NetworkService).read(network, h.ctx("network"));
    expect(read?.rulesDigest).toMatch(/^[0-9a-f]{16}$/);
    expect(read).toEqual(network);
  });

  it("shows a revoked, an added and a changed rule as drift, and update converges them", async () => {
    const svc = h.container().resolve(NetworkService);
    const recorded = network.rulesDigest;
    const sg = (await ec2.describeSecurityGroups({ GroupIds: [network.groups.loadBalancer] }))
      .SecurityGroups![0]!;
    const perm = sg.IpPermissions!.find((p) => p.FromPort === 443)!;
    // Revoke 443, and open it again wider in port range: a changed rule, plus an SSH rule nobody asked for.
    await ec2.revokeSecurityGroupIngress({ GroupId: sg.GroupId, IpPermissions: [perm] });
    const revoked = await svc.read(network, h.ctx("network"));
    expect(revoked?.rulesDigest).not.toBe(recorded);
    expect(revoked?.ruleCount).toBeLessThan(network.ruleCount);
    await ec2.authorizeSecurityGroupIngress({
      GroupId: sg.GroupId,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 443, ToPort: 444, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
        { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
      ],
    });
    const drifted = await svc.read(network, h.ctx("network"));
    expect(drifted?.rulesDigest).not.toBe(recorded);
    expect(drifted?.rulesDigest).not.toBe(revoked?.rulesDigest);

    const repaired = await svc.update!(drifted!, networkSpec("l4"), h.ctx("network"));
    expect(repaired.rulesDigest).toBe(recorded);
    expect(await svc.read(network, h.ctx("network"))).toEqual(network);
    const after = (await ec2.describeSecurityGroups({ GroupIds: [sg.GroupId!] })).SecurityGroups![0]!;
    expect(after.IpPermissions?.some((p) => p.FromPort === 22 || p.ToPort === 444)).toBe(false);
  });
});

describe("load balancer targets", () => {
  let lb: LoadBalancerState;
  let elb: ElasticLoadBalancingV2;
  const targets = () => h.container().resolve(LoadBalancerService).getTargets(lb, h.ctx("lb"));
  const ids = () => nodes.map((n) => n.id).sort();

  beforeAll(async () => {
    const svc = h.container().resolve(LoadBalancerService);
    lb = await svc.create(
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
      h.ctx("lb"),
    );
    elb = (await svc.native()) as ElasticLoadBalancingV2;
    await svc.setTargets(lb, nodes, h.ctx("targets"));
  });

  it("reports registered nodes and, once checks pass on every group, healthy ones", async () => {
    const t = await poll("both healthy", targets, (v) => v?.healthy?.length === 2);
    expect(t).toEqual({ id: lb.id, nodeIds: ids(), healthy: ids() } satisfies TargetsState);
  });

  it("shows a target deregistered outside k3sinfra as missing; setTargets registers it again", async () => {
    const tgs = (await elb.describeTargetGroups({ LoadBalancerArn: lb.id })).TargetGroups!;
    const gone = nodes[1]!.id;
    // Out of one group only: the node no longer serves every port, so it is not registered.
    await elb.deregisterTargets({ TargetGroupArn: tgs[0]!.TargetGroupArn, Targets: [{ Id: gone }] });
    const drifted = await targets();
    expect(drifted?.nodeIds).toEqual([nodes[0]!.id]);
    expect(drifted?.healthy).not.toContain(gone);

    await h.container().resolve(LoadBalancerService).setTargets(lb, nodes, h.ctx("targets"));
    expect((await targets())?.nodeIds).toEqual(ids());
    await poll("healthy again", targets, (v) => v?.healthy?.length === 2);
  });

  it("leaves a node whose checks fail, or that is stopped, out of `healthy` but registered", async () => {
    const [a, b] = nodes as [NodeState, NodeState];
    h.emulator.setTargetHealth(a.id, "unhealthy");
    const failing = await poll("a unhealthy", targets, (v) => !v?.healthy?.includes(a.id));
    expect(failing).toMatchObject({ nodeIds: ids(), healthy: [b.id] });
    h.emulator.setTargetHealth(a.id, "auto");
    await poll("a healthy", targets, (v) => v?.healthy?.length === 2);

    await ec2.stopInstances({ InstanceIds: [b.id] });
    const stopped = await poll("b out", targets, (v) => !v?.healthy?.includes(b.id));
    expect(stopped).toMatchObject({ nodeIds: ids(), healthy: [a.id] });
    nodes[1] = await h.container().resolve(NodeService).update!(b, nodeSpecs[1]!, h.ctx("node-1"));
    await poll("b healthy after start", targets, (v) => v?.healthy?.length === 2);
  });
});

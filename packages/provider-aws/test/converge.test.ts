/**
 * Converge for real, through the library on the emulator: drift made behind k3sinfra's back (as in the
 * console) is planned with its reason and repaired by `up`; a node replacement rolls one server at a time,
 * create-before-destroy, checked through the emulator's inventory at every request; a failing replacement
 * leaves the old server serving. Nothing asserts on elapsed time: waits poll for states.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { EC2 } from "@aws-sdk/client-ec2";
import type { ElasticLoadBalancingV2 } from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  type ClusterConfigInput,
  K3sinfraError,
  MemoryStateStore,
  plan,
  status,
  TAG_CLUSTER,
  up,
  waitUntil,
} from "@k3sinfra/core";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CERT } from "./helpers.js";
import { libraryConfig, libraryOptions } from "./library.js";

let emulator: Emulator;
/** Runs before every request the rolling test sends, while it is armed: the invariant checked at each step. */
let watch: (() => void) | undefined;
const violations: string[] = [];
/** A pass-through proxy in front of the emulator, so `watch` sees the cloud between every two requests. */
let proxy: Server;
let proxyUrl: string;

beforeAll(async () => {
  emulator = await startEmulator({
    timeScale: 0.001,
    seed: 11,
    // The L7 certificate must exist and cover the hostname, or the preflight stops `up`.
    fixtures: {
      aws: {
        hostedZones: ["example.com"],
        certificates: [{ arn: CERT, domainName: "rancher.cvlb.example.com" }],
      },
    },
    log: () => undefined,
  });
  const target = new URL(emulator.endpoints.aws!);
  proxy = createServer((req, res) => {
    watch?.();
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  await emulator?.stop();
});

const sdk = async () => {
  const { EC2 } = await import("@aws-sdk/client-ec2");
  const { ElasticLoadBalancingV2 } = await import("@aws-sdk/client-elastic-load-balancing-v2");
  const cfg = {
    region: "us-east-1",
    endpoint: emulator.endpoints.aws!,
    credentials: emulator.credentials.aws,
  };
  return { ec2: new EC2(cfg) as EC2, elb: new ElasticLoadBalancingV2(cfg) as ElasticLoadBalancingV2 };
};

const running = (name: string) =>
  emulator
    .inventory({ tags: { [TAG_CLUSTER]: name } })
    .filter((i) => i.type === "instance" && i.state === "running");

/** Healthy registrations per target group of the cluster (from the inventory's `target` items). */
const healthyPerGroup = (name: string): number[] => {
  const groups = new Map<string, number>();
  for (const t of emulator.inventory({ tags: { [TAG_CLUSTER]: name } }).filter((i) => i.type === "target"))
    groups.set(t.name ?? "", (groups.get(t.name ?? "") ?? 0) + (t.state === "healthy" ? 1 : 0));
  return [...groups.values()];
};

const until = (what: string, ok: () => boolean) =>
  waitUntil(async () => (ok() ? { state: "SUCCESS", value: undefined } : { state: "RETRY", reason: what }), {
    description: what,
    maxWaitMs: 120_000,
    minDelayMs: 5,
    maxDelayMs: 50,
  });

describe("refresh: drift is planned with its reason and repaired by up", () => {
  const name = "cvdrift";
  const config = libraryConfig(name);
  const lib = () => libraryOptions(emulator.endpoints.aws!, emulator, state);
  const state = new MemoryStateStore();
  const record = async (id: string) => (await state.read())?.resources[id]?.state as Record<string, unknown>;

  beforeAll(async () => {
    await up(config, lib().options);
  });

  const expectRepaired = async (resource: string, action: string, reason: RegExp) => {
    const p = await plan(config, lib().options);
    const change = p.changes.find((c) => c.resource === resource);
    expect(change?.action).toBe(action);
    expect(change?.reason).toMatch(reason);
    // Planned from the state alone, the drift is invisible (as terraform plan -refresh=false).
    expect((await plan(config, { ...lib().options, refresh: false })).empty).toBe(true);
    await up(config, lib().options);
    const after = await status(config, lib().options);
    expect(after.resources.filter((r) => r.status !== "ok")).toEqual([]);
    expect((await plan(config, lib().options)).empty).toBe(true);
  };

  it("a terminated node is created again", async () => {
    const { ec2 } = await sdk();
    const id = (await record("node-1")).id as string;
    await ec2.terminateInstances({ InstanceIds: [id] });
    await until("the instance to be gone", () => !running(name).some((i) => i.id === id));
    await expectRepaired("node-1", "create", /deleted outside k3sinfra/);
    expect(running(name)).toHaveLength(2);
    expect((await record("node-1")).id).not.toBe(id);
  });

  it("a stopped instance is started again", async () => {
    const { ec2 } = await sdk();
    const id = (await record("node-0")).id as string;
    await ec2.stopInstances({ InstanceIds: [id] });
    await expectRepaired(
      "node-0",
      "update",
      /changed outside k3sinfra: status \(running → (stopping|stopped)\)/,
    );
    expect(running(name).map((i) => i.id)).toContain(id);
  });

  it("a deleted target registration is registered again", async () => {
    const { elb } = await sdk();
    const node = (await record("node-0")).id as string;
    const groups = await elb.describeTargetGroups({});
    const mine = (groups.TargetGroups ?? []).filter((g) => g.TargetGroupName?.includes(name));
    expect(mine.length).toBeGreaterThan(0);
    for (const g of mine)
      await elb.deregisterTargets({ TargetGroupArn: g.TargetGroupArn, Targets: [{ Id: node }] });
    await expectRepaired("lb-targets", "update", /registered targets \(-1\)/);
    const targets = emulator
      .inventory({ tags: { [TAG_CLUSTER]: name } })
      .filter((i) => i.type === "target" && i.id === node && i.state !== "draining");
    expect(targets).toHaveLength(mine.length);
  });

  it("a firewall rule opened outside k3sinfra is closed again", async () => {
    const { ec2 } = await sdk();
    const groups = (await record("network")).groups as Record<string, string>;
    await ec2.authorizeSecurityGroupIngress({
      GroupId: groups.nodes,
      IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
    });
    await expectRepaired("network", "update", /firewall rules/);
    const sg = await ec2.describeSecurityGroups({ GroupIds: [groups.nodes!] });
    const open22 = (sg.SecurityGroups?.[0]?.IpPermissions ?? []).some(
      (p) => p.FromPort === 22 && (p.IpRanges ?? []).some((r) => r.CidrIp === "0.0.0.0/0"),
    );
    expect(open22).toBe(false);
  });
});

describe("rolling replacement", () => {
  const name = "cvroll";
  const base = { ...libraryConfig(name), nodes: { count: 3 } } as ClusterConfigInput;
  const state = new MemoryStateStore();
  const lib = () => libraryOptions(proxyUrl, emulator, state);

  beforeAll(async () => {
    await up(base, lib().options);
    await until("every target healthy", () => healthyPerGroup(name).every((n) => n === 3));
  });

  it("never has fewer than count − 1 running servers and healthy targets per group, at every request", async () => {
    const bigger = { ...base, nodes: { count: 3, instanceType: "m6i.2xlarge" } } as ClusterConfigInput;
    const p = await plan(bigger, lib().options);
    expect(p.changes.filter((c) => c.action === "replace").map((c) => c.resource)).toEqual([
      "node-0",
      "node-1",
      "node-2",
    ]);
    const before = running(name).map((i) => i.id);
    let checks = 0;
    watch = () => {
      checks++;
      const n = running(name).length;
      const healthy = healthyPerGroup(name);
      if (n < 2 || healthy.some((h) => h < 2)) violations.push(`running ${n}, healthy ${healthy.join("/")}`);
    };
    try {
      await up(bigger, lib().options);
    } finally {
      watch = undefined;
    }
    expect(checks).toBeGreaterThan(20);
    expect(violations).toEqual([]);
    const after = running(name);
    expect(after).toHaveLength(3);
    expect(after.some((i) => before.includes(i.id))).toBe(false);
    expect((await plan(bigger, lib().options)).empty).toBe(true);
  });

  it("a replacement that never passes its health checks leaves the old server serving, and up finishes later", async () => {
    const again = { ...base, nodes: { count: 3, instanceType: "m6i.xlarge" } } as ClusterConfigInput;
    await until("every target healthy", () => healthyPerGroup(name).every((n) => n === 3));
    const old = (await state.read())!.resources["node-0"]!.state.id;
    let fresh: string | undefined;
    const { options } = lib();
    const failing = {
      ...options,
      timeouts: { targets: 1500 },
      onEvent: (e: Parameters<typeof options.onEvent>[0]) => {
        // The moment the new server is registered, its checks start failing (K3s never came up on it).
        const m = e.type === "resource" && e.message?.match(/^registering (\S+) next to/);
        if (m && !fresh) {
          fresh = m[1];
          emulator.setTargetHealth(fresh!, "unhealthy");
        }
      },
    };
    const error = await up(again, failing).catch((e: unknown) => e);
    expect(K3sinfraError.is(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(
      /did not pass the load balancer's health checks.*keeps serving/s,
    );
    // The old one still runs and is registered; the other servers were not touched.
    expect(running(name).map((i) => i.id)).toContain(old);
    expect(running(name)).toHaveLength(4);
    const deposed = (await state.read())!.deposed ?? [];
    expect(deposed.map((d) => d.state.id)).toEqual([old]);
    expect((await plan(again, lib().options)).changes.find((c) => c.resource === "node-0.g1")?.action).toBe(
      "delete",
    );
    // Once the new server is fixed, up finishes the replacement it started.
    emulator.setTargetHealth(fresh!, "auto");
    await up(again, lib().options);
    expect(running(name).map((i) => i.id)).not.toContain(old);
    expect((await state.read())!.deposed ?? []).toEqual([]);
  });
});

describe("load balancer replacement", () => {
  it("creates the new one, proves its targets healthy, moves DNS, then deletes the old one", async () => {
    const name = "cvlb";
    const state = new MemoryStateStore();
    const lib = () => libraryOptions(proxyUrl, emulator, state);
    const l4 = libraryConfig(name);
    await up(l4, lib().options);
    const oldLb = (await state.read())!.resources["load-balancer"]!.state.id;
    const l7 = { ...l4, loadBalancer: { mode: "l7", certificate: CERT } } as ClusterConfigInput;
    const p = await plan(l7, lib().options);
    expect(p.changes.find((c) => c.resource === "load-balancer")?.action).toBe("replace");
    const from = emulator.requestLog().length;
    let checks = 0;
    watch = () => {
      checks++;
      const lbs = emulator
        .inventory({ tags: { [TAG_CLUSTER]: name } })
        .filter((i) => i.type === "load-balancer" && i.state === "active");
      if (lbs.length === 0) violations.push("no active load balancer");
    };
    try {
      await up(l7, lib().options);
    } finally {
      watch = undefined;
    }
    expect(checks).toBeGreaterThan(10);
    expect(violations).toEqual([]);
    // DNS moved to the new one before the old one was deleted.
    const ops = emulator
      .requestLog()
      .slice(from)
      .map((e) => e.operation);
    const dnsSwitch = ops.lastIndexOf("ChangeResourceRecordSets");
    const deleted = ops.indexOf("DeleteLoadBalancer");
    expect(dnsSwitch).toBeGreaterThanOrEqual(0);
    expect(deleted).toBeGreaterThan(dnsSwitch);
    const lbs = emulator
      .inventory({ tags: { [TAG_CLUSTER]: name } })
      .filter((i) => i.type === "load-balancer");
    expect(lbs).toHaveLength(1);
    expect(lbs[0]!.id).not.toBe(oldLb);
    expect(lbs[0]!.name).toBe(`k3s-${name}-lb1`);
    expect((await state.read())!.deposed ?? []).toEqual([]);
    expect((await plan(l7, lib().options)).empty).toBe(true);
  });
});

describe("state bound to its cluster", () => {
  it("refuses a config whose name differs from the state's, before any request", async () => {
    const state = new MemoryStateStore();
    const first = libraryConfig("cvone");
    await up(first, libraryOptions(emulator.endpoints.aws!, emulator, state).options);
    const second = { ...libraryConfig("cvtwo"), rancher: { hostname: "rancher.cvone.example.com" } };
    const { options } = libraryOptions(emulator.endpoints.aws!, emulator, state);
    const requests = emulator.requestLog().length;
    const { destroy } = await import("@k3sinfra/core");
    for (const call of [
      () => plan(second, options),
      () => up(second, options),
      () => status(second, options),
      () => destroy(second, options),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(K3sinfraError.is(error, "InvalidConfig")).toBe(true);
      expect(String((error as Error).message)).toMatch(
        /name: is 'cvtwo', but the state at this location belongs to cluster 'cvone'/,
      );
    }
    expect(emulator.requestLog().length).toBe(requests);
    expect((await status(first, options)).resources.every((r) => r.status === "ok")).toBe(true);
  });
});

import type { ElasticLoadBalancingV2 } from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  LoadBalancerService,
  type LoadBalancerSpec,
  NetworkService,
  type NetworkState,
  NodeService,
  type NodeState,
  resourceTags,
} from "@k3sinfra/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsClients } from "../src/index.js";
import { CERT, type Harness, networkSpec, startHarness, ZONES } from "./helpers.js";

let h: Harness;
let network: NetworkState;
let nodes: NodeState[];
beforeAll(async () => {
  h = await startHarness({}, "lbs");
  const c = h.container();
  network = await c.resolve(NetworkService).create(networkSpec("l4"), h.ctx("network"));
  nodes = await Promise.all(
    ZONES.map((zone, index) =>
      c.resolve(NodeService).create(
        {
          index,
          zone,
          size: { vcpus: 2, memoryGiB: 4 },
          diskGiB: 30,
          image: "ubuntu-24.04",
          userData: "#cloud-config\n",
          userDataHash: "h",
          network,
        },
        h.ctx(`node-${index}`),
      ),
    ),
  );
});
afterAll(() => h?.stop());

const spec = (mode: "l4" | "l7", over: Partial<LoadBalancerSpec> = {}): LoadBalancerSpec => ({
  mode,
  zones: [...ZONES],
  certificate: mode === "l7" ? CERT : undefined,
  healthCheck:
    mode === "l4"
      ? {
          protocol: "tcp",
          port: 80,
          intervalSeconds: 10,
          timeoutSeconds: 6,
          healthyThreshold: 3,
          unhealthyThreshold: 3,
        }
      : {
          protocol: "http",
          port: 80,
          path: "/healthz",
          intervalSeconds: 10,
          timeoutSeconds: 6,
          healthyThreshold: 3,
          unhealthyThreshold: 3,
        },
  idleTimeoutSeconds: 1800,
  crossZone: true,
  network,
  ...over,
});
const elb = async () => (await h.container().resolve(AwsClients).elbv2()) as ElasticLoadBalancingV2;
const owned = (resource: string) => h.emulator.inventory({ tags: resourceTags(h.cluster, resource) });
const attrs = (list: { Key?: string; Value?: string }[] | undefined) =>
  Object.fromEntries((list ?? []).map((a) => [a.Key, a.Value]));

describe("AwsLoadBalancerService (L4: NLB)", () => {
  it("creates an internet-facing NLB with two TCP target groups and TCP listeners", async () => {
    const svc = h.container().resolve(LoadBalancerService);
    const lb = await svc.create(spec("l4"), h.ctx("load-balancer"));
    expect(lb).toMatchObject({ name: "k3s-lbs-lb", mode: "l4", status: "active" });
    expect(lb.hostname).toBeTruthy();
    expect(lb.alias).toEqual({ zoneId: expect.stringMatching(/^Z/), dnsName: lb.hostname });
    expect(lb.sourceCidrs).toBeUndefined();

    const client = await elb();
    const live = (await client.describeLoadBalancers({ LoadBalancerArns: [lb.id] })).LoadBalancers?.[0];
    expect(live).toMatchObject({
      Type: "network",
      Scheme: "internet-facing",
      SecurityGroups: [network.groups.loadBalancer],
    });
    expect(live?.AvailabilityZones?.map((z) => z.SubnetId).sort()).toEqual(
      network.subnets.map((s) => s.id).sort(),
    );
    const lbAttrs = attrs(
      (await client.describeLoadBalancerAttributes({ LoadBalancerArn: lb.id })).Attributes,
    );
    expect(lbAttrs["load_balancing.cross_zone.enabled"]).toBe("true");

    const tgs = (await client.describeTargetGroups({ LoadBalancerArn: lb.id })).TargetGroups ?? [];
    expect(tgs.map((t) => t.TargetGroupName).sort()).toEqual(["k3s-lbs-lb-443", "k3s-lbs-lb-80"]);
    for (const tg of tgs) {
      expect(tg).toMatchObject({
        Protocol: "TCP",
        TargetType: "instance",
        HealthCheckProtocol: "TCP",
        HealthCheckPort: "80",
        HealthCheckIntervalSeconds: 10,
        HealthyThresholdCount: 3,
        UnhealthyThresholdCount: 3,
      });
      const a = attrs(
        (await client.describeTargetGroupAttributes({ TargetGroupArn: tg.TargetGroupArn })).Attributes,
      );
      expect(a["proxy_protocol_v2.enabled"]).toBe("false");
      expect(a["deregistration_delay.timeout_seconds"]).toBe("30");
      expect(a["preserve_client_ip.enabled"]).toBe("true");
    }
    const listeners = (await client.describeListeners({ LoadBalancerArn: lb.id })).Listeners ?? [];
    expect(listeners.map((l) => `${l.Protocol}:${l.Port}`).sort()).toEqual(["TCP:443", "TCP:80"]);
    for (const l of listeners) {
      const tg = tgs.find((t) => t.Port === l.Port);
      expect(l.DefaultActions?.[0]).toMatchObject({ Type: "forward", TargetGroupArn: tg?.TargetGroupArn });
      // Rancher's websockets: the NLB's TCP idle timeout is raised from 350 s to the configured 1800 s.
      const la = attrs((await client.describeListenerAttributes({ ListenerArn: l.ListenerArn })).Attributes);
      expect(la["tcp.idle_timeout.seconds"]).toBe("1800");
    }
  });

  it("is idempotent and adopts from a fresh process: no duplicate LB, target groups or listeners", async () => {
    const first = await h.container().resolve(LoadBalancerService).create(spec("l4"), h.ctx("load-balancer"));
    const before = owned("load-balancer")
      .map((i) => i.id)
      .sort();
    const again = await h.container().resolve(LoadBalancerService).create(spec("l4"), h.ctx("load-balancer"));
    expect(again.id).toBe(first.id);
    expect(
      owned("load-balancer")
        .map((i) => i.id)
        .sort(),
    ).toEqual(before);
    const listeners = (await (await elb()).describeListeners({ LoadBalancerArn: first.id })).Listeners ?? [];
    expect(listeners).toHaveLength(2);
  });

  it("registers exactly the given nodes in every target group", async () => {
    const svc = h.container().resolve(LoadBalancerService);
    const lb = await svc.create(spec("l4"), h.ctx("load-balancer"));
    const both = await svc.setTargets(lb, nodes, h.ctx("load-balancer"));
    expect(both.nodeIds).toEqual(nodes.map((n) => n.id).sort());
    expect((await svc.getTargets(lb, h.ctx("load-balancer")))?.nodeIds).toEqual(both.nodeIds);
    const one = await svc.setTargets(lb, nodes.slice(0, 1), h.ctx("load-balancer"));
    expect(one.nodeIds).toEqual([nodes[0]?.id]);
    const client = await elb();
    for (const tg of (await client.describeTargetGroups({ LoadBalancerArn: lb.id })).TargetGroups ?? []) {
      const health = await client.describeTargetHealth({ TargetGroupArn: tg.TargetGroupArn });
      const live = (health.TargetHealthDescriptions ?? []).filter(
        (d) => d.TargetHealth?.State !== "draining",
      );
      expect(live.map((d) => d.Target?.Id)).toEqual([nodes[0]?.id]);
    }
    expect((await svc.getTargets(lb, h.ctx("load-balancer")))?.nodeIds).toEqual([nodes[0]?.id]);
  });

  it("updates health check and cross-zone in place", async () => {
    const svc = h.container().resolve(LoadBalancerService);
    const lb = await svc.create(spec("l4"), h.ctx("load-balancer"));
    const hc = { ...spec("l4").healthCheck, intervalSeconds: 30, healthyThreshold: 2 };
    await svc.update!(lb, spec("l4", { healthCheck: hc, crossZone: false }), h.ctx("load-balancer"));
    const client = await elb();
    const tgs = (await client.describeTargetGroups({ LoadBalancerArn: lb.id })).TargetGroups ?? [];
    expect(tgs.every((t) => t.HealthCheckIntervalSeconds === 30 && t.HealthyThresholdCount === 2)).toBe(true);
    const a = attrs((await client.describeLoadBalancerAttributes({ LoadBalancerArn: lb.id })).Attributes);
    expect(a["load_balancing.cross_zone.enabled"]).toBe("false");
    await svc.update!(lb, spec("l4"), h.ctx("load-balancer"));
  });

  it("finds the LB by tags; deletes listeners, LB and target groups; deleting twice is fine", async () => {
    const svc = h.container().resolve(LoadBalancerService);
    const lb = await svc.create(spec("l4"), h.ctx("load-balancer"));
    const found = await svc.findByTags(resourceTags(h.cluster, "load-balancer"), h.ctx("load-balancer"));
    expect(found.map((s) => s.id)).toEqual([lb.id]);
    expect(await svc.findByTags(resourceTags("nobody", "load-balancer"), h.ctx("load-balancer"))).toEqual([]);
    await svc.delete(lb, h.ctx("load-balancer"));
    await svc.delete(lb, h.ctx("load-balancer"));
    expect(await svc.read(lb, h.ctx("load-balancer"))).toBeUndefined();
    expect(await svc.getTargets(lb, h.ctx("load-balancer"))).toBeUndefined();
    expect(owned("load-balancer")).toEqual([]);
  });

  it("finds and removes target groups an interrupted delete left behind", async () => {
    const svc = h.container().resolve(LoadBalancerService);
    const lb = await svc.create(spec("l4"), h.ctx("lb-orphan"));
    const client = await elb();
    for (const l of (await client.describeListeners({ LoadBalancerArn: lb.id })).Listeners ?? [])
      await client.deleteListener({ ListenerArn: l.ListenerArn });
    await client.deleteLoadBalancer({ LoadBalancerArn: lb.id });
    const found = await svc.findByTags(resourceTags(h.cluster, "lb-orphan"), h.ctx("lb-orphan"));
    expect(found).toHaveLength(1);
    expect(found[0]?.status).toBe("orphaned");
    await svc.delete(found[0]!, h.ctx("lb-orphan"));
    expect(owned("lb-orphan")).toEqual([]);
  });
});

describe("AwsLoadBalancerService (L7: ALB)", () => {
  it("creates an ALB: HTTPS with the ACM certificate, HTTP redirect, HTTP:80 target group, idle 1800 s", async () => {
    const network7 = await h.container().resolve(NetworkService).create(networkSpec("l7"), h.ctx("network7"));
    const svc = h.container().resolve(LoadBalancerService);
    const lb = await svc.create(spec("l7", { network: network7 }), h.ctx("lb7"));
    expect(lb).toMatchObject({ name: "k3s-lbs-lb7", mode: "l7", status: "active" });
    expect([...(lb.sourceCidrs ?? [])].sort()).toEqual(network7.subnets.map((s) => s.cidr).sort());
    const client = await elb();
    const live = (await client.describeLoadBalancers({ LoadBalancerArns: [lb.id] })).LoadBalancers?.[0];
    expect(live).toMatchObject({ Type: "application", Scheme: "internet-facing" });
    const a = attrs((await client.describeLoadBalancerAttributes({ LoadBalancerArn: lb.id })).Attributes);
    expect(a["idle_timeout.timeout_seconds"]).toBe("1800");
    const tgs = (await client.describeTargetGroups({ LoadBalancerArn: lb.id })).TargetGroups ?? [];
    expect(tgs).toHaveLength(1);
    expect(tgs[0]).toMatchObject({
      TargetGroupName: "k3s-lbs-lb7-80",
      Protocol: "HTTP",
      Port: 80,
      HealthCheckProtocol: "HTTP",
      HealthCheckPath: "/healthz",
      Matcher: { HttpCode: "200-404" },
    });
    const listeners = (await client.describeListeners({ LoadBalancerArn: lb.id })).Listeners ?? [];
    const https = listeners.find((l) => l.Port === 443);
    const http = listeners.find((l) => l.Port === 80);
    expect(https).toMatchObject({ Protocol: "HTTPS", Certificates: [{ CertificateArn: CERT }] });
    expect(https?.DefaultActions?.[0]).toMatchObject({
      Type: "forward",
      TargetGroupArn: tgs[0]?.TargetGroupArn,
    });
    expect(http?.DefaultActions?.[0]).toMatchObject({
      Type: "redirect",
      RedirectConfig: { Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301" },
    });

    const again = await h
      .container()
      .resolve(LoadBalancerService)
      .create(spec("l7", { network: network7 }), h.ctx("lb7"));
    expect(again.id).toBe(lb.id);
    expect((await svc.setTargets(lb, nodes, h.ctx("lb7"))).nodeIds).toHaveLength(2);
    await svc.delete(lb, h.ctx("lb7"));
    expect(owned("lb7")).toEqual([]);
  });

  it("turns client IP preservation off on an internal NLB, so a node can reach Rancher through it", async () => {
    const lb = await h
      .container({ scheme: "internal" })
      .resolve(LoadBalancerService)
      .create(spec("l4"), h.ctx("lbint"));
    const client = await elb();
    const live = (await client.describeLoadBalancers({ LoadBalancerArns: [lb.id] })).LoadBalancers?.[0];
    expect(live?.Scheme).toBe("internal");
    const tgs = (await client.describeTargetGroups({ LoadBalancerArn: lb.id })).TargetGroups ?? [];
    expect(tgs).toHaveLength(2);
    for (const tg of tgs) {
      const a = attrs(
        (await client.describeTargetGroupAttributes({ TargetGroupArn: tg.TargetGroupArn })).Attributes,
      );
      expect(a["preserve_client_ip.enabled"]).toBe("false");
    }
  });

  it("refuses to change an NLB into an ALB in place", async () => {
    const svc = h.container().resolve(LoadBalancerService);
    await svc.create(spec("l4"), h.ctx("lbmode"));
    await expect(svc.create(spec("l7"), h.ctx("lbmode"))).rejects.toThrow(/changing the mode replaces it/);
  });
});

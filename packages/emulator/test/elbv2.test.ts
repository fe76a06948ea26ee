import {
  CreateSecurityGroupCommand,
  DescribeSubnetsCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
} from "@aws-sdk/client-ec2";
import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeListenerAttributesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  ModifyListenerAttributesCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  waitUntilLoadBalancerAvailable,
  waitUntilLoadBalancersDeleted,
  waitUntilTargetInService,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, errorOf, fast, start, UBUNTU_SSM } from "./helpers.js";

let c: Clients;
let subnets: { SubnetId?: string; VpcId?: string }[];
let vpcId: string;

beforeAll(async () => {
  c = await start();
  subnets = (
    await c.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }))
  ).Subnets!;
  vpcId = subnets[0]!.VpcId!;
});
afterAll(async () => {
  await c.emu.stop();
});

describe("ELBv2 names and idempotency", () => {
  it("validates load balancer and target group names", async () => {
    for (const Name of ["a".repeat(33), "-lead", "trail-", "internal-x", "under_score"]) {
      const e = await errorOf(
        c.elb.send(
          new CreateLoadBalancerCommand({ Name, Type: "network", Subnets: [subnets[0]!.SubnetId!] }),
        ),
      );
      expect(e.name).toBe("ValidationError");
    }
    const tg = await errorOf(
      c.elb.send(
        new CreateTargetGroupCommand({ Name: "b".repeat(33), Protocol: "TCP", Port: 443, VpcId: vpcId }),
      ),
    );
    expect(tg.name).toBe("ValidationError");
    const hc = await errorOf(
      c.elb.send(
        new CreateTargetGroupCommand({
          Name: "hc",
          Protocol: "TCP",
          Port: 443,
          VpcId: vpcId,
          HealthCheckIntervalSeconds: 3,
        }),
      ),
    );
    expect(hc.name).toBe("ValidationError");
    const port = await errorOf(
      c.elb.send(new CreateTargetGroupCommand({ Name: "p", Protocol: "TCP", Port: 70000, VpcId: vpcId })),
    );
    expect(port.name).toBe("ValidationError");
    expect(port.message).toMatch(/at 'port' failed to satisfy constraint/);
    const alb1 = await errorOf(
      c.elb.send(
        new CreateLoadBalancerCommand({
          Name: "alb1",
          Type: "application",
          Subnets: [subnets[0]!.SubnetId!],
        }),
      ),
    );
    expect(alb1.message).toMatch(/two subnets/);
  });

  it("returns the existing LB/TG for identical settings and Duplicate… otherwise", async () => {
    const args = {
      Name: "idem",
      Type: "network" as const,
      Scheme: "internet-facing" as const,
      Subnets: [subnets[0]!.SubnetId!, subnets[1]!.SubnetId!],
    };
    const a = await c.elb.send(new CreateLoadBalancerCommand(args));
    const b = await c.elb.send(new CreateLoadBalancerCommand(args));
    expect(b.LoadBalancers?.[0]?.LoadBalancerArn).toBe(a.LoadBalancers?.[0]?.LoadBalancerArn);
    const e = await errorOf(c.elb.send(new CreateLoadBalancerCommand({ ...args, Scheme: "internal" })));
    expect(e.name).toBe("DuplicateLoadBalancerNameException");
    const t = { Name: "idem-tg", Protocol: "TCP" as const, Port: 443, VpcId: vpcId };
    const t1 = await c.elb.send(new CreateTargetGroupCommand(t));
    const t2 = await c.elb.send(new CreateTargetGroupCommand(t));
    expect(t2.TargetGroups?.[0]?.TargetGroupArn).toBe(t1.TargetGroups?.[0]?.TargetGroupArn);
    const e2 = await errorOf(c.elb.send(new CreateTargetGroupCommand({ ...t, Port: 80 })));
    expect(e2.name).toBe("DuplicateTargetGroupNameException");
    await c.elb.send(
      new DeleteLoadBalancerCommand({ LoadBalancerArn: a.LoadBalancers![0]!.LoadBalancerArn }),
    );
    await c.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: t1.TargetGroups![0]!.TargetGroupArn }));
  });
});

describe("NLB lifecycle", () => {
  it("provisions, forwards to healthy targets, and deletes", async () => {
    const sg = await c.ec2.send(new CreateSecurityGroupCommand({ GroupName: "n", Description: "n" }));
    const run = await c.ec2.send(
      new RunInstancesCommand({
        ImageId: UBUNTU_SSM,
        InstanceType: "t3.medium",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnets[0]!.SubnetId,
        SecurityGroupIds: [sg.GroupId!],
      }),
    );
    const instanceId = run.Instances![0]!.InstanceId!;
    const lb = (
      await c.elb.send(
        new CreateLoadBalancerCommand({
          Name: "k3s-nlb",
          Type: "network",
          Subnets: subnets.slice(0, 3).map((s) => s.SubnetId!),
          Tags: [{ Key: "cluster", Value: "c1" }],
        }),
      )
    ).LoadBalancers![0]!;
    expect(lb.State?.Code).toBe("provisioning");
    expect(lb.CanonicalHostedZoneId).toBe("Z26RNL4JYFTOTI");
    expect(lb.DNSName).toMatch(/^k3s-nlb-[0-9a-f]{16}\.elb\.us-east-1\.amazonaws\.com$/);
    const tg = (
      await c.elb.send(
        new CreateTargetGroupCommand({
          Name: "k3s-443",
          Protocol: "TCP",
          Port: 443,
          VpcId: vpcId,
          TargetType: "instance",
        }),
      )
    ).TargetGroups![0]!;
    expect(tg.HealthCheckProtocol).toBe("TCP");

    // "If the target is an EC2 instance, it must be in the running state when you register it"
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RegisterTargets.html).
    // A stopped instance stays stopped, so this does not race the clock as a pending one would.
    await waitUntilInstanceRunning({ client: c.ec2, ...fast }, { InstanceIds: [instanceId] });
    await c.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    await waitUntilInstanceStopped({ client: c.ec2, ...fast }, { InstanceIds: [instanceId] });
    const notRunning = await errorOf(
      c.elb.send(
        new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: instanceId }] }),
      ),
    );
    expect(notRunning.name).toBe("InvalidTargetException");
    await c.ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
    await waitUntilInstanceRunning({ client: c.ec2, ...fast }, { InstanceIds: [instanceId] });
    await c.elb.send(
      new RegisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: instanceId }] }),
    );
    const unused = await c.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
    expect(unused.TargetHealthDescriptions?.[0]?.TargetHealth?.State).toBe("unused");

    const listener = await c.elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancerArn,
        Protocol: "TCP",
        Port: 443,
        DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
      }),
    );
    const again = await c.elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancerArn,
        Protocol: "TCP",
        Port: 443,
        DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
      }),
    );
    expect(again.Listeners?.[0]?.ListenerArn).toBe(listener.Listeners?.[0]?.ListenerArn);
    const dupl = await errorOf(
      c.elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb.LoadBalancerArn,
          Protocol: "TLS",
          Port: 443,
          Certificates: [{ CertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc" }],
          DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
        }),
      ),
    );
    expect(dupl.name).toBe("DuplicateListenerException");
    const inUse = await errorOf(
      c.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn })),
    );
    expect(inUse.name).toBe("ResourceInUseException");

    const listenerArn = listener.Listeners![0]!.ListenerArn!;
    await c.elb.send(
      new ModifyListenerAttributesCommand({
        ListenerArn: listenerArn,
        Attributes: [{ Key: "tcp.idle_timeout.seconds", Value: "600" }],
      }),
    );
    const la = await c.elb.send(new DescribeListenerAttributesCommand({ ListenerArn: listenerArn }));
    expect(la.Attributes).toEqual([{ Key: "tcp.idle_timeout.seconds", Value: "600" }]);
    const laBad = await errorOf(
      c.elb.send(
        new ModifyListenerAttributesCommand({
          ListenerArn: listenerArn,
          Attributes: [{ Key: "tcp.idle_timeout.seconds", Value: "10" }],
        }),
      ),
    );
    expect(laBad.name).toBe("ValidationError");
    await waitUntilLoadBalancerAvailable(
      { client: c.elb, ...fast },
      { LoadBalancerArns: [lb.LoadBalancerArn!] },
    );
    await waitUntilTargetInService({ client: c.elb, ...fast }, { TargetGroupArn: tg.TargetGroupArn });

    await c.elb.send(
      new ModifyLoadBalancerAttributesCommand({
        LoadBalancerArn: lb.LoadBalancerArn,
        Attributes: [{ Key: "load_balancing.cross_zone.enabled", Value: "true" }],
      }),
    );
    const attrs = await c.elb.send(
      new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: lb.LoadBalancerArn }),
    );
    expect(attrs.Attributes).toContainEqual({ Key: "load_balancing.cross_zone.enabled", Value: "true" });
    await c.elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: tg.TargetGroupArn,
        Attributes: [{ Key: "proxy_protocol_v2.enabled", Value: "true" }],
      }),
    );
    const tga = await c.elb.send(
      new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn }),
    );
    expect(tga.Attributes).toContainEqual({ Key: "proxy_protocol_v2.enabled", Value: "true" });

    await c.elb.send(
      new AddTags({ ResourceArns: [tg.TargetGroupArn!], Tags: [{ Key: "cluster", Value: "c1" }] }),
    );
    const tags = await c.elb.send(
      new DescribeTagsCommand({ ResourceArns: [lb.LoadBalancerArn!, tg.TargetGroupArn!] }),
    );
    expect(tags.TagDescriptions?.every((t) => t.Tags?.some((x) => x.Key === "cluster"))).toBe(true);
    expect(
      c.emu
        .inventory({ cloud: "aws", tags: { cluster: "c1" } })
        .map((i) => i.type)
        .sort(),
    ).toEqual(["load-balancer", "target", "target-group"]);

    await c.elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    await waitUntilLoadBalancersDeleted(
      { client: c.elb, ...fast },
      { LoadBalancerArns: [lb.LoadBalancerArn!] },
    );
    const listeners = await errorOf(
      c.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn })),
    );
    expect(listeners.name).toBe("LoadBalancerNotFoundException");
    await c.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn }));
    const gone = await errorOf(c.elb.send(new DescribeLoadBalancersCommand({ Names: ["k3s-nlb"] })));
    expect(gone.name).toBe("LoadBalancerNotFoundException");
  });
});

describe("ALB", () => {
  it("takes an HTTPS listener with a certificate and an HTTP→HTTPS redirect", async () => {
    const sg = await c.ec2.send(new CreateSecurityGroupCommand({ GroupName: "alb", Description: "alb" }));
    const lb = (
      await c.elb.send(
        new CreateLoadBalancerCommand({
          Name: "k3s-alb",
          Type: "application",
          Subnets: subnets.slice(0, 2).map((s) => s.SubnetId!),
          SecurityGroups: [sg.GroupId!],
        }),
      )
    ).LoadBalancers![0]!;
    expect(lb.CanonicalHostedZoneId).toBe("Z35SXDOTRQ7X7K");
    const tg = (
      await c.elb.send(
        new CreateTargetGroupCommand({
          Name: "k3s-http",
          Protocol: "HTTP",
          Port: 80,
          VpcId: vpcId,
          HealthCheckPath: "/healthz",
        }),
      )
    ).TargetGroups![0]!;
    const noCert = await errorOf(
      c.elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb.LoadBalancerArn,
          Protocol: "HTTPS",
          Port: 443,
          DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
        }),
      ),
    );
    expect(noCert.name).toBe("ValidationError");
    const https = await c.elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancerArn,
        Protocol: "HTTPS",
        Port: 443,
        Certificates: [
          {
            CertificateArn:
              "arn:aws:acm:us-east-1:123456789012:certificate/0b1e2c3d-aaaa-bbbb-cccc-000000000000",
          },
        ],
        DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
      }),
    );
    expect(https.Listeners?.[0]?.SslPolicy).toBeTruthy();
    const http = await c.elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancerArn,
        Protocol: "HTTP",
        Port: 80,
        DefaultActions: [
          { Type: "redirect", RedirectConfig: { Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301" } },
        ],
      }),
    );
    expect(http.Listeners?.[0]?.DefaultActions?.[0]?.RedirectConfig?.StatusCode).toBe("HTTP_301");
    const tcpOnAlb = await errorOf(
      c.elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb.LoadBalancerArn,
          Protocol: "TCP",
          Port: 8443,
          DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
        }),
      ),
    );
    expect(tcpOnAlb.name).toBe("ValidationError");
    const ls = await c.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    expect(ls.Listeners?.map((l) => l.Port)).toEqual([80, 443]);
  });
});

// Alias to keep the test above short.
const AddTags = AddTagsCommand;

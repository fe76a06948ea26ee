/**
 * Instance stop/start and ELBv2 target health. Transitions are reached by polling (never by sleeping a
 * fixed time); intermediate states are asserted only from a call's own response or where the window is
 * tens of seconds long, so a loaded machine cannot race them.
 */
import {
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
} from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  waitUntilLoadBalancerAvailable,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, describe, expect, it } from "vitest";
import { type Clients, errorOf, fast, sleep, start, UBUNTU_SSM } from "./helpers.js";

const opened: Clients[] = [];
afterAll(async () => {
  for (const c of opened) await c.emu.stop();
});
async function open(timeScale: number): Promise<Clients> {
  const c = await start({ timeScale });
  opened.push(c);
  return c;
}

/** Polls until `pred` holds; the bound only keeps a broken build from hanging. */
async function until<T>(read: () => Promise<T> | T, pred: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 3000; i++) {
    const v = await read();
    if (pred(v)) return v;
    await sleep(10);
  }
  throw new Error("condition never reached");
}

async function launch(c: Clients, count = 1): Promise<string[]> {
  const run = await c.ec2.send(
    new RunInstancesCommand({
      ImageId: UBUNTU_SSM,
      InstanceType: "t3.medium",
      MinCount: count,
      MaxCount: count,
    }),
  );
  return run.Instances!.map((i) => i.InstanceId!);
}

async function describe1(c: Clients, id: string) {
  const out = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return out.Reservations![0]!.Instances![0]!;
}

describe("StopInstances / StartInstances", () => {
  it("walks running → stopping → stopped → pending → running, with a new public IPv4", async () => {
    const c = await open(0.001);
    const [id] = (await launch(c)) as [string];
    await waitUntilInstanceRunning({ client: c.ec2, ...fast }, { InstanceIds: [id] });
    const firstIp = (await describe1(c, id)).PublicIpAddress;
    expect(firstIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    const stop = await c.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    expect(stop.StoppingInstances?.[0]).toMatchObject({
      InstanceId: id,
      PreviousState: { Name: "running", Code: 16 },
      CurrentState: { Name: "stopping", Code: 64 },
    });
    await waitUntilInstanceStopped({ client: c.ec2, ...fast }, { InstanceIds: [id] });
    const stopped = await describe1(c, id);
    expect(stopped.PublicIpAddress).toBeUndefined();
    expect(stopped.StateReason?.Code).toBe("Client.UserInitiatedShutdown");
    expect(c.emu.inventory().find((i) => i.id === id)?.state).toBe("stopped");

    const again = await c.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    expect(again.StoppingInstances?.[0]?.CurrentState?.Name).toBe("stopped");

    const startOut = await c.ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    expect(startOut.StartingInstances?.[0]).toMatchObject({
      PreviousState: { Name: "stopped" },
      CurrentState: { Name: "pending", Code: 0 },
    });
    await waitUntilInstanceRunning({ client: c.ec2, ...fast }, { InstanceIds: [id] });
    const running = await describe1(c, id);
    expect(running.PublicIpAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(running.PublicIpAddress).not.toBe(firstIp);
    expect(running.LaunchTime!.getTime()).toBeGreaterThan(stopped.LaunchTime!.getTime());
  });

  it("refuses states an instance cannot be stopped or started from", async () => {
    // Real durations: the instance stays `pending` for 30 s, far longer than these calls take.
    const c = await open(1);
    const [id] = (await launch(c)) as [string];
    const notYet = await errorOf(c.ec2.send(new StopInstancesCommand({ InstanceIds: [id] })));
    expect(notYet.name).toBe("IncorrectInstanceState");
    expect(notYet.message).toContain(id);
    const noop = await c.ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    expect(noop.StartingInstances?.[0]?.CurrentState?.Name).toBe("pending");

    await c.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    expect((await errorOf(c.ec2.send(new StartInstancesCommand({ InstanceIds: [id] })))).name).toBe(
      "IncorrectInstanceState",
    );
    expect((await errorOf(c.ec2.send(new StopInstancesCommand({ InstanceIds: [id] })))).name).toBe(
      "IncorrectInstanceState",
    );
    const unknown = await errorOf(
      c.ec2.send(new StopInstancesCommand({ InstanceIds: ["i-0123456789abcdef0"] })),
    );
    expect(unknown.name).toBe("InvalidInstanceID.NotFound");
  });
});

describe("target health", () => {
  it("initial → healthy; failing checks → unhealthy; stopped → unused; deregistered → draining", async () => {
    const c = await open(0.01);
    const subnets = (
      await c.ec2.send(
        new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }),
      )
    ).Subnets!;
    const ids = await launch(c, 2);
    const [a, b] = ids as [string, string];
    const lb = (
      await c.elb.send(
        new CreateLoadBalancerCommand({
          Name: "th-nlb",
          Type: "network",
          Subnets: subnets.slice(0, 2).map((s) => s.SubnetId!),
        }),
      )
    ).LoadBalancers![0]!;
    // A slow check (300 s × 10) so `initial` lasts 30 s of real time at this scale.
    const tg = (
      await c.elb.send(
        new CreateTargetGroupCommand({
          Name: "th-443",
          Protocol: "TCP",
          Port: 443,
          VpcId: subnets[0]!.VpcId,
          HealthCheckIntervalSeconds: 300,
          HealthyThresholdCount: 10,
          UnhealthyThresholdCount: 2,
          Tags: [{ Key: "cluster", Value: "th" }],
        }),
      )
    ).TargetGroups![0]!;
    const arn = tg.TargetGroupArn!;
    await c.elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancerArn,
        Protocol: "TCP",
        Port: 443,
        DefaultActions: [{ Type: "forward", TargetGroupArn: arn }],
      }),
    );
    await waitUntilLoadBalancerAvailable(
      { client: c.elb, maxWaitTime: 30, minDelay: 0.02, maxDelay: 0.05 },
      { LoadBalancerArns: [lb.LoadBalancerArn!] },
    );
    await waitUntilInstanceRunning({ client: c.ec2, ...fast }, { InstanceIds: ids });
    await c.elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: a }, { Id: b }] }));

    const health = async () => {
      const out = await c.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
      return Object.fromEntries(out.TargetHealthDescriptions!.map((d) => [d.Target!.Id!, d.TargetHealth!]));
    };
    const targets = () =>
      Object.fromEntries(
        c.emu
          .inventory()
          .filter((i) => i.type === "target")
          .map((i) => [i.id, i]),
      );
    expect((await health())[a]).toMatchObject({ State: "initial", Reason: "Elb.RegistrationInProgress" });
    expect(targets()[a]).toMatchObject({ name: "th-443", state: "initial", tags: { cluster: "th" } });

    // Faster checks from now on: 2 × 10 s to pass, 2 × 10 s to fail.
    await c.elb.send(
      new ModifyTargetGroupCommand({
        TargetGroupArn: arn,
        HealthCheckIntervalSeconds: 10,
        HealthCheckTimeoutSeconds: 5,
        HealthyThresholdCount: 2,
      }),
    );
    await until(targets, (t) => t[a]?.state === "healthy" && t[b]?.state === "healthy");
    expect((await health())[a]).toEqual({ State: "healthy" });

    c.emu.setTargetHealth(a, "unhealthy");
    const failing = await until(health, (h) => h[a]?.State === "unhealthy");
    expect(failing[a]).toMatchObject({ Reason: "Target.FailedHealthChecks" });
    expect(failing[b]?.State).toBe("healthy");
    expect(targets()[a]?.state).toBe("unhealthy");
    c.emu.setTargetHealth(a, "auto");
    await until(health, (h) => h[a]?.State === "healthy");
    expect(() => c.emu.setTargetHealth("i-0123456789abcdef0", "unhealthy")).toThrow(/no instance/);

    // A stopped instance is `unused` with Target.InvalidState (API_TargetHealth), not `unhealthy`.
    await c.ec2.send(new StopInstancesCommand({ InstanceIds: [b] }));
    const stopped = await until(health, (h) => h[b]?.State === "unused");
    expect(stopped[b]).toMatchObject({ Reason: "Target.InvalidState" });

    // Draining for the deregistration delay (3600 s = 36 s here), then gone.
    await c.elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: arn,
        Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "3600" }],
      }),
    );
    await c.elb.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: a }] }));
    expect((await health())[a]).toMatchObject({
      State: "draining",
      Reason: "Target.DeregistrationInProgress",
    });
    expect(targets()[a]?.state).toBe("draining");
    await c.elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: arn,
        Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "0" }],
      }),
    );
    expect((await health())[a]).toBeUndefined();
    expect(targets()[a]).toBeUndefined();
  });
});

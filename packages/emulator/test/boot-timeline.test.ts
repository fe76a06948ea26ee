/**
 * The boot timeline of a k3sinfra server (boot-timeline.ts): its bootstrap's stages on the serial console
 * (GetConsoleOutput), its load balancer health gated on K3s being ready, and the back door that makes its
 * bootstrap fail at a stage until cleared. Time moves only through the `clock` option: no sleeping, no races.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  DescribeSubnetsCommand,
  EC2Client,
  GetConsoleOutputCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterEach, describe, expect, it } from "vitest";
import { type Emulator, type EmulatorOptions, startEmulator } from "../src/index.js";
import { clientConfig, errorOf, UBUNTU_SSM } from "./helpers.js";

const S = 1000;
/** EC2 `pending` lasts 30 s: the boot starts then. */
const PENDING = 30 * S;

/** A k3sinfra server's user data as cloud-init reads it (gzipped `#cloud-config` naming the bootstrap). */
const k3sinfraUserData = (extra = "") =>
  gzipSync(
    `#cloud-config\nwrite_files:\n  - path: /usr/local/sbin/k3sinfra-bootstrap\n    content: |\n      #!/bin/sh\n${extra}runcmd:\n  - [/usr/local/sbin/k3sinfra-bootstrap]\n`,
  ).toString("base64");

/** The last stage line of a console, as `up` reads it (core's ready.ts `lastStage`). */
const lastStage = (log: string): { stage: string; failure?: string } | undefined => {
  let last: { stage: string; failure?: string } | undefined;
  for (const m of log.matchAll(/k3sinfra-bootstrap: stage=([a-z0-9-]+)(?: failed: (.*))?/g))
    last = { stage: m[1]!, ...(m[2] ? { failure: m[2] } : {}) };
  return last;
};
/** The stages started, in order (`stage=<name> start` lines). */
const stagesOf = (log: string): string[] =>
  [...log.matchAll(/k3sinfra-bootstrap: stage=([a-z0-9-]+) start$/gm)].map((m) => m[1]!);
const ALL = [
  "secrets",
  "metadata",
  "datastore",
  "k3s-install",
  "k3s-ready",
  "rancher-manifests",
  "kubeconfig",
];
/** systemd's restart delay grows to 300 s: a cleared fault is retried within this (attempt included). */
const MAX_RETRY = 310 * S;

let emu: Emulator | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.parse("2026-03-01T12:00:00Z");

async function setup(options: EmulatorOptions = {}, clock = { now: T0 }) {
  emu = await startEmulator({ timeScale: 1, seed: 7, log: () => {}, clock: () => clock.now, ...options });
  const cfg = clientConfig(emu);
  const ec2 = new EC2Client(cfg);
  const elb = new ElasticLoadBalancingV2Client(cfg);
  const advance = (ms: number) => {
    clock.now += ms;
  };
  const launch = async (userData?: string, tags: Record<string, string> = {}) =>
    (
      await ec2.send(
        new RunInstancesCommand({
          ImageId: UBUNTU_SSM,
          InstanceType: "m6i.large",
          MinCount: 1,
          MaxCount: 1,
          ...(userData ? { UserData: userData } : {}),
          ...(Object.keys(tags).length
            ? {
                TagSpecifications: [
                  {
                    ResourceType: "instance",
                    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
                  },
                ],
              }
            : {}),
        }),
      )
    ).Instances![0]!.InstanceId!;
  const console = async (id: string, latest = true) => {
    const out = await ec2.send(new GetConsoleOutputCommand({ InstanceId: id, Latest: latest }));
    return {
      ...out,
      text: out.Output ? Buffer.from(out.Output, "base64").toString("utf8") : undefined,
    };
  };
  return { emu, ec2, elb, clock, advance, launch, console };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** An NLB with one TCP target group (checks every 10 s, 3 to pass, 3 to fail) and its listener. */
async function loadBalancer(c: Setup) {
  const subnets = (
    await c.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }))
  ).Subnets!;
  const lb = (
    await c.elb.send(
      new CreateLoadBalancerCommand({
        Name: "bt-nlb",
        Type: "network",
        Subnets: subnets.slice(0, 2).map((s) => s.SubnetId!),
      }),
    )
  ).LoadBalancers![0]!;
  const tg = (
    await c.elb.send(
      new CreateTargetGroupCommand({
        Name: "bt-443",
        Protocol: "TCP",
        Port: 443,
        VpcId: subnets[0]!.VpcId,
        HealthCheckIntervalSeconds: 10,
        HealthCheckTimeoutSeconds: 5,
        HealthyThresholdCount: 3,
        UnhealthyThresholdCount: 3,
      }),
    )
  ).TargetGroups![0]!;
  await c.elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancerArn,
      Protocol: "TCP",
      Port: 443,
      DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }],
    }),
  );
  const arn = tg.TargetGroupArn!;
  return {
    register: (ids: string[]) =>
      c.elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: ids.map((Id) => ({ Id })) })),
    health: async () => {
      const out = await c.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
      return Object.fromEntries(out.TargetHealthDescriptions!.map((d) => [d.Target!.Id!, d.TargetHealth!]));
    },
  };
}

describe("GetConsoleOutput and the boot timeline", () => {
  it("shows the kernel, cloud-init and the bootstrap's stages reached so far, timestamped", async () => {
    const c = await setup();
    const id = await c.launch(k3sinfraUserData());
    const plain = await c.launch();

    // Pending: nothing booted, no output (only the id).
    const none = await c.console(id);
    expect(none.InstanceId).toBe(id);
    expect(none.Output).toBeUndefined();

    c.advance(PENDING + 41 * S);
    const early = await c.console(id);
    expect(early.text).toMatch(/^\[ {4}0\.000000\] Linux version .*-aws/);
    expect(early.text).toContain("running 'modules:final'");
    expect(early.text).toContain("         Starting k3sinfra-bootstrap.service...");
    expect(stagesOf(early.text!)).toEqual(["secrets"]);
    expect(early.text).toContain(
      `${new Date(T0 + PENDING + 40 * S).toISOString().slice(0, 19)}Z k3sinfra-bootstrap: stage=secrets start\n`,
    );
    expect(early.Timestamp?.getTime()).toBe(T0 + PENDING + 40 * S);

    c.advance(60 * S); // running + 101 s: installing K3s
    expect(lastStage((await c.console(id)).text!)).toEqual({ stage: "k3s-install" });

    c.advance(60 * S); // running + 161 s: done
    const done = (await c.console(id)).text!;
    expect(stagesOf(done)).toEqual(ALL);
    expect(done).toMatch(/k3sinfra-bootstrap: stage=kubeconfig ok\n.*k3sinfra-bootstrap: stage=done ok\n/);
    expect(lastStage(done)).toEqual({ stage: "done" });
    expect(done).toContain("[  OK  ] Finished k3sinfra-bootstrap.service.");
    expect(done).not.toContain("failed");

    // Without `Latest`: the buffer posted 60 s after the boot started, not updated since.
    const buffered = (await c.console(id, false)).text!;
    expect(stagesOf(buffered)).toEqual(["secrets", "metadata", "datastore", "k3s-install"]);

    // Not a k3sinfra server: cloud-init finishes, no stage line.
    const other = (await c.console(plain)).text!;
    expect(other).toContain("Cloud-init v. 24.4.1-0ubuntu0~24.04.1 finished at");
    expect(other).not.toContain("k3sinfra-bootstrap");

    expect((await errorOf(c.console("i-0123456789abcdef0"))).name).toBe("InvalidInstanceID.NotFound");
    expect((await errorOf(c.console("i-nope"))).name).toBe("InvalidInstanceID.Malformed");
  });

  it("a k3sinfra server's target turns healthy only once its K3s is ready; bootTimeMs stretches the boot", async () => {
    // Twice the default boot: K3s ready 280 s after `running`.
    const c = await setup({ bootTimeMs: 300_000 });
    const lb = await loadBalancer(c);
    const server = await c.launch(k3sinfraUserData());
    const plain = await c.launch();
    c.advance(PENDING);
    await lb.register([server, plain]);
    // The NLB is active 150 s after its creation: checks start then (T0 + 150 s).
    c.advance(150 * S - PENDING + 29 * S);
    expect((await lb.health())[server]).toMatchObject({ State: "initial" });
    c.advance(1 * S); // T0 + 180 s: 3 checks passed, 3 failed
    const h = await lb.health();
    expect(h[plain]).toEqual({ State: "healthy" });
    expect(h[server]).toEqual({
      State: "unhealthy",
      Reason: "Target.FailedHealthChecks",
      Description: "Health checks failed",
    });
    expect(c.emu.inventory().find((i) => i.type === "target" && i.id === server)?.state).toBe("unhealthy");
    // K3s ready at T0 + 30 + 280 s; healthy 3 × 10 s later.
    c.clock.now = T0 + PENDING + 280 * S - 1;
    expect(lastStage((await c.console(server)).text!)).toEqual({ stage: "k3s-ready" });
    c.clock.now = T0 + PENDING + 280 * S + 30 * S - 1;
    expect((await lb.health())[server]?.State).toBe("unhealthy");
    c.advance(1);
    expect((await lb.health())[server]).toEqual({ State: "healthy" });
  });
});

describe("failBootstrap / clearBootstrapFault", () => {
  it("stops the boot at the stage with its reason, restarts like systemd, and completes once cleared", async () => {
    const c = await setup();
    const lb = await loadBalancer(c);
    const id = await c.launch(k3sinfraUserData());
    const healthy = await c.launch(k3sinfraUserData());
    c.emu.failBootstrap(id, "datastore", "cannot connect to k3s-db:3306 (timed out)");
    c.advance(PENDING);
    await lb.register([id, healthy]);

    c.advance(46 * S); // running + 46 s: the datastore stage is under way
    expect(lastStage((await c.console(id)).text!)).toEqual({ stage: "datastore" });
    c.advance(10 * S); // its attempt failed
    const failed = (await c.console(id)).text!;
    expect(lastStage(failed)).toEqual({
      stage: "datastore",
      failure: "cannot connect to k3s-db:3306 (timed out)",
    });
    expect(failed).toContain("[FAILED] Failed to start k3sinfra-bootstrap.service.");

    // Half an hour later: still failing, run again and again by systemd; the other server serves.
    c.advance(30 * 60 * S);
    const later = (await c.console(id)).text!;
    expect(lastStage(later)).toMatchObject({ stage: "datastore", failure: expect.any(String) });
    const failures = later.match(/\[FAILED\] Failed to start k3sinfra-bootstrap\.service\./g) ?? [];
    // Attempts of 10 s, restart delays growing from 15 s to 300 s (15 × 20^(n/10)): 13 attempts by now.
    expect(failures.length).toBe(13);
    expect(later.match(/stage=datastore start/g)?.length).toBe(13);
    expect(stagesOf(later)).not.toContain("k3s-install");
    expect((await lb.health())[id]).toMatchObject({
      State: "unhealthy",
      Reason: "Target.FailedHealthChecks",
    });
    expect((await lb.health())[healthy]).toEqual({ State: "healthy" });
    // A boot already past the stage is not affected.
    c.emu.failBootstrap(healthy, "datastore");
    c.advance(S);
    expect(lastStage((await c.console(healthy)).text!)).toEqual({ stage: "done" });
    expect((await lb.health())[healthy]).toEqual({ State: "healthy" });

    // Cleared: the next run of the unit passes the stage; the rest follows with its usual gaps.
    c.emu.clearBootstrapFault(id);
    expect(lastStage((await c.console(id)).text!)).toMatchObject({ failure: expect.any(String) });
    c.advance(MAX_RETRY);
    expect(lastStage((await c.console(id)).text!)?.failure).toBeUndefined();
    c.advance(95 * S + 30 * S); // k3s-ready passed 95 s after the datastore stage; 3 checks passed
    expect((await lb.health())[id]).toEqual({ State: "healthy" });
    const end = (await c.console(id)).text!;
    expect(lastStage(end)).toEqual({ stage: "done" });
    // The re-entry passed the earlier stages again before the datastore.
    expect(stagesOf(end).slice(-7)).toEqual(ALL);

    expect(() => c.emu.failBootstrap("i-0123456789abcdef0", "datastore")).toThrow(/no instance/);
    expect(() => c.emu.failBootstrap(id, "nope" as "done")).toThrow(/unknown boot stage "nope"/);
  });

  it("by tags: instances launched later fail too; a stage after k3s-ready leaves the target healthy", async () => {
    const c = await setup();
    const lb = await loadBalancer(c);
    c.emu.failBootstrap(
      { tags: { "k3sinfra:resource": "node-1" } },
      "k3s-install",
      "curl: (6) Could not resolve host: get.k3s.io",
    );
    c.emu.failBootstrap(
      { tags: { "k3sinfra:resource": "node-2" } },
      "rancher-manifests",
      "helm chart invalid",
    );
    const n0 = await c.launch(k3sinfraUserData(), { "k3sinfra:resource": "node-0" });
    const n1 = await c.launch(k3sinfraUserData(), { "k3sinfra:resource": "node-1" });
    const n2 = await c.launch(k3sinfraUserData(), { "k3sinfra:resource": "node-2" });
    c.advance(PENDING);
    await lb.register([n0, n1, n2]);
    c.advance(10 * 60 * S);
    expect(lastStage((await c.console(n0)).text!)).toEqual({ stage: "done" });
    expect(lastStage((await c.console(n1)).text!)).toEqual({
      stage: "k3s-install",
      failure: "curl: (6) Could not resolve host: get.k3s.io",
    });
    expect(lastStage((await c.console(n2)).text!)).toEqual({
      stage: "rancher-manifests",
      failure: "helm chart invalid",
    });
    const h = await lb.health();
    expect(h[n0]?.State).toBe("healthy");
    expect(h[n1]?.State).toBe("unhealthy");
    // K3s and Traefik serve although the bootstrap failed after them.
    expect(h[n2]?.State).toBe("healthy");

    c.emu.clearBootstrapFault({ tags: { "k3sinfra:resource": "node-1" } });
    c.advance(MAX_RETRY + 100 * S + 30 * S);
    expect(lastStage((await c.console(n1)).text!)).toEqual({ stage: "done" });
    expect((await lb.health())[n1]?.State).toBe("healthy");
    // A node-1 launched after the clear boots normally.
    const again = await c.launch(k3sinfraUserData(), { "k3sinfra:resource": "node-1" });
    c.advance(PENDING + 200 * S);
    expect(lastStage((await c.console(again)).text!)).toEqual({ stage: "done" });
  });

  it("bootFaults from the options hold across restarts until a start without them; no kubeconfig meanwhile", async () => {
    const dir = mkdtempSync(join(tmpdir(), "k3sinfra-boot-"));
    dirs.push(dir);
    const persistPath = join(dir, "cloud.json");
    const clock = { now: T0 };
    const rule = {
      tags: { "k3sinfra:resource": "node-0" },
      stage: "datastore" as const,
      reason: "no route to host",
    };
    let c = await setup({ persistPath, bootFaults: [rule] }, clock);
    const id = await c.launch(k3sinfraUserData("      KUBECONFIG_SECRET='/k3sinfra/bt/kubeconfig'\n"), {
      "k3sinfra:resource": "node-0",
    });
    c.advance(PENDING + 5 * 60 * S);
    expect(lastStage((await c.console(id)).text!)).toEqual({
      stage: "datastore",
      failure: "no route to host",
    });
    // The kubeconfig write waits for a bootstrap that gets that far.
    expect(c.emu.bootNodes()).toEqual([]);
    await c.emu.stop();

    // Same options, a day later: still failing; the console keeps only the last 20 attempts.
    c = await setup({ persistPath, bootFaults: [rule] }, clock);
    c.advance(24 * 60 * 60 * S);
    const day = (await c.console(id)).text!;
    expect(lastStage(day)).toEqual({ stage: "datastore", failure: "no route to host" });
    expect(day.match(/stage=datastore failed: no route to host/g)?.length).toBe(20);
    await c.emu.stop();

    // Without them: cleared at this start; the node retries and completes.
    c = await setup({ persistPath }, clock);
    c.advance(MAX_RETRY + 110 * S);
    expect(lastStage((await c.console(id)).text!)).toEqual({ stage: "done" });
    // Now the write is attempted (and not authorized: the instance has no instance profile).
    expect(c.emu.bootNodes()).toMatchObject([
      { instanceId: id, error: expect.stringContaining("NoCredentials") },
    ]);
  });
});

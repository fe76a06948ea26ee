/**
 * Persisting only what changed, when it changed: reads, failed requests and injected faults write nothing; a
 * change is on disk before its answer and survives a restart; a burst of changes shares writes; stop() writes
 * what a back door changed. Writes are counted through `onPersist`; time moves only through `clock`.
 */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { ListHostedZonesCommand, Route53Client } from "@aws-sdk/client-route-53";
import { afterEach, describe, expect, it } from "vitest";
import { CLOUDFLARE_TEST_TOKEN, type Emulator, type EmulatorOptions, startEmulator } from "../src/index.js";
import { emitJson } from "../src/persistence.js";
import { clientConfig, errorOf, UBUNTU_SSM } from "./helpers.js";

const T0 = Date.UTC(2026, 0, 1);
const running: Emulator[] = [];

afterEach(async () => {
  for (const emu of running.splice(0)) await emu.stop();
});

async function setup(options: EmulatorOptions = {}) {
  const persistPath = join(mkdtempSync(join(tmpdir(), "k3sinfra-emu-writes-")), "state.json");
  const clock = { now: T0 };
  const writes = { count: 0 };
  const opts: EmulatorOptions = {
    timeScale: 1,
    seed: 5,
    persistPath,
    log: () => {},
    clock: () => clock.now,
    fixtures: { aws: { hostedZones: ["example.com"] } },
    onPersist: () => {
      writes.count++;
    },
    ...options,
  };
  const emu = await startEmulator(opts);
  running.push(emu);
  const ec2 = new EC2Client(clientConfig(emu));
  const restart = async () => {
    const next = await startEmulator(opts);
    running.push(next);
    return { emu: next, ec2: new EC2Client(clientConfig(next)) };
  };
  return { emu, ec2, r53: new Route53Client(clientConfig(emu)), clock, writes, persistPath, restart };
}

const fileId = (path: string) => {
  const s = statSync(path);
  return `${s.ino}:${s.mtimeMs}:${s.size}`;
};

const onDisk = (path: string) =>
  JSON.parse(readFileSync(path, "utf8")) as {
    clouds: { aws: { ec2: Record<string, { groups: Record<string, { name: string }> }> } };
  };

const groupNames = (path: string) =>
  Object.values(onDisk(path).clouds.aws.ec2["us-east-1"]!.groups).map((g) => g.name);

describe("persisting only what changed", () => {
  it("writes nothing for reads, failed requests and injected faults", async () => {
    const { emu, ec2, r53, clock, writes, persistPath } = await setup({ clouds: ["aws", "cloudflare"] });
    expect(writes.count).toBe(1); // the new file, with its seeds and fixtures
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: UBUNTU_SSM, InstanceType: "t3.small", MinCount: 1, MaxCount: 1 }),
    );
    const id = run.Instances![0]!.InstanceId!;
    expect(run.Instances![0]!.State?.Name).toBe("pending");
    const after = writes.count;
    expect(after).toBeGreaterThan(1);

    clock.now += 60_000; // pending → running, derived on read
    const d = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    expect(d.Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe("running");
    await ec2.send(new DescribeVpcsCommand({}));
    await ec2.send(new DescribeSecurityGroupsCommand({}));
    await r53.send(new ListHostedZonesCommand({}));
    // A failed read and a failed change.
    expect(
      (await errorOf(ec2.send(new DescribeInstancesCommand({ InstanceIds: ["i-0123456789abcdef0"] })))).name,
    ).toBe("InvalidInstanceID.NotFound");
    await ec2.send(new CreateSecurityGroupCommand({ GroupName: "dup", Description: "d" }));
    const afterDup = writes.count;
    const file = fileId(persistPath);
    expect(
      (await errorOf(ec2.send(new CreateSecurityGroupCommand({ GroupName: "dup", Description: "d" })))).name,
    ).toBe("InvalidGroup.Duplicate");
    // An injected fault on a change.
    emu.addFault({ operation: "CreateSecurityGroup", kind: "error500", times: 1 });
    expect(
      (await errorOf(ec2.send(new CreateSecurityGroupCommand({ GroupName: "f", Description: "f" })))).status,
    ).toBe(500);
    // Cloudflare reads (they draw ray ids from the RNG, which alone is no change).
    const zones = await fetch(`${emu.endpoints.cloudflare}/zones`, {
      headers: { authorization: `Bearer ${CLOUDFLARE_TEST_TOKEN}` },
    });
    expect(zones.status).toBe(200);
    const zoneId = ((await zones.json()) as { result: { id: string }[] }).result[0]!.id;
    const records = await fetch(`${emu.endpoints.cloudflare}/zones/${zoneId}/dns_records`, {
      headers: { authorization: `Bearer ${CLOUDFLARE_TEST_TOKEN}` },
    });
    expect(records.status).toBe(200);

    expect(writes.count).toBe(afterDup);
    expect(afterDup).toBe(after + 1);
    expect(groupNames(persistPath)).toContain("dup");
    expect(groupNames(persistPath)).not.toContain("f");
    expect(fileId(persistPath)).toBe(file);
  });

  it("answers a change once it is on disk, and a restart sees it (time-driven states included)", async () => {
    const { emu, ec2, clock, persistPath, restart, writes } = await setup();
    const before = fileId(persistPath);
    const sg = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: "kept",
        Description: "kept",
        TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: "cluster", Value: "w" }] }],
      }),
    );
    expect(groupNames(persistPath)).toContain("kept"); // before stop(): written before the answer
    expect(fileId(persistPath)).not.toBe(before);
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: UBUNTU_SSM, InstanceType: "t3.small", MinCount: 1, MaxCount: 1 }),
    );
    const id = run.Instances![0]!.InstanceId!;
    clock.now += 60_000;
    // The first emulator is still running (as after a kill -9, nothing more is written): a second one reads the file.
    const written = writes.count;
    const two = await restart();
    expect(writes.count).toBe(written); // the restored state needed no write: seeds and fixtures were there
    const d = await two.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    expect(d.Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe("running");
    const g = await two.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [sg.GroupId!] }));
    expect(g.SecurityGroups?.[0]?.GroupName).toBe("kept");
    expect(two.emu.inventory({ tags: { cluster: "w" } }).map((i) => i.id)).toEqual([sg.GroupId]);
    expect(statSync(persistPath).mode & 0o777).toBe(0o600);
    void emu;
  });

  it("coalesces a burst of changes into fewer writes, every change on disk once answered", async () => {
    const { ec2, writes, persistPath } = await setup();
    const start = writes.count;
    const n = 30;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        ec2.send(new CreateSecurityGroupCommand({ GroupName: `burst-${i}`, Description: "b" })),
      ),
    );
    const used = writes.count - start;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(n);
    const names = groupNames(persistPath);
    for (let i = 0; i < n; i++) expect(names).toContain(`burst-${i}`);
  });

  it("stop() writes what a back door changed", async () => {
    const { emu, ec2, writes, persistPath, restart } = await setup();
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: UBUNTU_SSM, InstanceType: "t3.small", MinCount: 1, MaxCount: 1 }),
    );
    const id = run.Instances![0]!.InstanceId!;
    const before = writes.count;
    emu.setTargetHealth(id, "unhealthy");
    await emu.stop();
    expect(writes.count).toBe(before + 1);
    const instances = (
      JSON.parse(readFileSync(persistPath, "utf8")) as {
        clouds: { aws: { ec2: Record<string, { instances: Record<string, { health?: object }> }> } };
      }
    ).clouds.aws.ec2["us-east-1"]!.instances;
    expect(instances[id]?.health).toEqual({ failingSince: T0 });
    // Stopping again, or stopping a restarted emulator that changed nothing, writes nothing.
    await emu.stop();
    const two = await restart();
    await two.emu.stop();
    expect(writes.count).toBe(before + 1);
  });

  it("streams the state in pieces, exactly as JSON.stringify writes it", () => {
    const value = {
      a: [1, "x", null, undefined, { b: { c: { d: { e: { f: { g: { h: [1, { i: 2 }] } } } } } } }],
      u: undefined,
      fn: () => 1,
      'k"ey': { n: -0.5, t: true, empty: {}, list: [] },
      nested: { deep: { deeper: { deepest: { bottom: { z: ["q"] } } } } },
    };
    for (const depth of [0, 1, 3, 8, 20]) {
      const pieces: string[] = [];
      emitJson(value, (c) => pieces.push(c), depth);
      expect(pieces.join("")).toBe(JSON.stringify(value));
    }
  });
});

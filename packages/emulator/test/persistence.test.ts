import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { ListHostedZonesByNameCommand, Route53Client } from "@aws-sdk/client-route-53";
import { describe, expect, it } from "vitest";
import { startEmulator } from "../src/index.js";
import { clientConfig, sleep, UBUNTU_SSM } from "./helpers.js";

describe("persistence", () => {
  it("keeps the cloud across stop/start with persistPath, without duplicating fixtures", async () => {
    const persistPath = join(mkdtempSync(join(tmpdir(), "k3sinfra-emu-")), "state.json");
    const opts = {
      timeScale: 0.001,
      seed: 7,
      persistPath,
      log: () => {},
      fixtures: { aws: { hostedZones: ["example.com"] } },
    };
    const one = await startEmulator(opts);
    const ec2 = new EC2Client(clientConfig(one));
    const sg = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: "p",
        Description: "p",
        TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: "cluster", Value: "p" }] }],
      }),
    );
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: UBUNTU_SSM,
        InstanceType: "t3.small",
        MinCount: 1,
        MaxCount: 1,
        ClientToken: "p-0",
        SecurityGroupIds: [sg.GroupId!],
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "cluster", Value: "p" }] }],
      }),
    );
    await one.stop();
    await sleep(60); // pending lasts 30 ms at this time scale; the restarted emulator derives "running"
    expect(JSON.parse(readFileSync(persistPath, "utf8")).version).toBe(1);

    const two = await startEmulator(opts);
    const ec2b = new EC2Client(clientConfig(two));
    const d = await ec2b.send(
      new DescribeInstancesCommand({ InstanceIds: [run.Instances![0]!.InstanceId!] }),
    );
    expect(d.Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe("running");
    expect(
      two
        .inventory({ tags: { cluster: "p" } })
        .map((i) => i.type)
        .sort(),
    ).toEqual(["instance", "security-group"]);
    // A replayed ClientToken still returns the same reservation after the restart.
    const replay = await ec2b.send(
      new RunInstancesCommand({
        ImageId: UBUNTU_SSM,
        InstanceType: "t3.small",
        MinCount: 1,
        MaxCount: 1,
        ClientToken: "p-0",
        SecurityGroupIds: [sg.GroupId!],
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "cluster", Value: "p" }] }],
      }),
    );
    expect(replay.Instances?.[0]?.InstanceId).toBe(run.Instances![0]!.InstanceId);
    const zones = await new Route53Client(clientConfig(two)).send(new ListHostedZonesByNameCommand({}));
    expect(zones.HostedZones?.filter((z) => z.Name === "example.com.")).toHaveLength(1);
    await two.stop();
  });

  it("generates the same ids for the same seed", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const emu = await startEmulator({ seed: 99, timeScale: 0.001, log: () => {} });
      const ec2 = new EC2Client(clientConfig(emu));
      const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "s", Description: "s" }));
      ids.push(sg.GroupId!);
      await emu.stop();
    }
    expect(ids[0]).toMatch(/^sg-[0-9a-f]{17}$/);
    expect(ids[1]).toBe(ids[0]);
  });
});

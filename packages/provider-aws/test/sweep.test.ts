import { ElasticLoadBalancingV2 } from "@aws-sdk/client-elastic-load-balancing-v2";
import { destroy, up } from "@k3sinfra/core";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeElbTags } from "../src/elbv2-tags.js";
import { leftovers, libraryConfig, libraryOptions } from "./library.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    timeScale: 0.0005,
    seed: 13,
    fixtures: { aws: { hostedZones: ["example.com"] } },
    log: () => undefined,
  });
});
afterAll(() => emulator?.stop());

describe("the destroy sweep", () => {
  it("removes the DB subnet group a failed CreateDBInstance leaves behind", async () => {
    const run = libraryOptions(emulator.endpoints.aws!, emulator);
    emulator.addFault({ service: "rds", operation: "CreateDBInstance", kind: "error500", rate: 1 });
    await expect(up(libraryConfig("leak"), run.options)).rejects.toThrow();
    emulator.clearFaults();
    const groups = () => leftovers(emulator, "leak").filter((i) => i.type === "db-subnet-group");
    expect(groups()).toHaveLength(1);
    expect(leftovers(emulator, "leak").some((i) => i.type === "db-instance")).toBe(false);

    const result = await destroy(libraryConfig("leak"), run.options);
    expect(result.swept).toContainEqual({ kind: "datastore", id: expect.stringContaining(":subgrp:") });
    expect(groups()).toEqual([]);
    expect(leftovers(emulator, "leak")).toEqual([]);
  });

  it("describes ELBv2 tags past a resource deleted between listing and describing", async () => {
    const run = libraryOptions(emulator.endpoints.aws!, emulator);
    await up(libraryConfig("gone"), run.options);
    const elb = new ElasticLoadBalancingV2({
      endpoint: emulator.endpoints.aws!,
      region: "us-east-1",
      credentials: emulator.credentials.aws,
    });
    const tgs = (await elb.describeTargetGroups({})).TargetGroups ?? [];
    const lbs = (await elb.describeLoadBalancers({})).LoadBalancers ?? [];
    const arns = [...lbs.map((l) => l.LoadBalancerArn!), ...tgs.map((t) => t.TargetGroupArn!)];
    expect(arns).toHaveLength(3);
    // Another destroy removes the load balancer (and so its listeners) after our listing.
    await elb.deleteLoadBalancer({ LoadBalancerArn: lbs[0]!.LoadBalancerArn! });
    // AWS fails the whole batch for one missing ARN...
    await expect(elb.describeTags({ ResourceArns: arns })).rejects.toMatchObject({
      name: "LoadBalancerNotFoundException",
    });
    // ...and the sweep's describe drops it and goes on with the rest.
    const tags = await describeElbTags(elb, arns, { poll: { minDelayMs: 1, maxDelayMs: 5 } });
    expect([...tags.keys()].sort()).toEqual(tgs.map((t) => t.TargetGroupArn!).sort());
    for (const t of tags.values()) expect(t["k3sinfra:cluster"]).toBe("gone");

    await destroy(libraryConfig("gone"), run.options);
    expect(emulator.inventory()).toEqual([]);
  });
});

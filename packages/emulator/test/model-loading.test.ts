import { DescribeVpcsCommand } from "@aws-sdk/client-ec2";
import { DescribeDBInstancesCommand } from "@aws-sdk/client-rds";
import { ListHostedZonesCommand } from "@aws-sdk/client-route-53";
import { afterEach, describe, expect, it } from "vitest";
import { findSpecsDir, loadModel, parsedModels } from "../src/aws/kernel/model.js";
import { type Clients, start } from "./helpers.js";

// Each test file runs in a fresh module registry, so the model cache starts empty here.
describe("AWS service models", () => {
  let c: Clients | undefined;
  afterEach(async () => {
    await c?.emu.stop();
    c = undefined;
  });

  it("are parsed once, each on the first request for its service, never at start", async () => {
    expect(findSpecsDir(), "the models (shared/specs/aws) are beside the repository").toBeDefined();
    c = await start({ fixtures: { aws: { hostedZones: ["example.com"] } } });
    expect(parsedModels()).toEqual([]);

    await c.ec2.send(new DescribeVpcsCommand({}));
    expect(parsedModels()).toEqual(["ec2"]);
    const ec2 = loadModel("ec2", () => {});
    await c.ec2.send(new DescribeVpcsCommand({}));
    // The cached model, not a second parse.
    expect(loadModel("ec2", () => {})).toBe(ec2);

    await c.rds.send(new DescribeDBInstancesCommand({}));
    await c.r53.send(new ListHostedZonesCommand({}));
    expect(parsedModels()).toEqual(["ec2", "rds", "route53"]);
    expect(loadModel("ec2", () => {})).toBe(ec2);
  });
});

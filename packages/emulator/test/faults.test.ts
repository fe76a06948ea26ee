import { DescribeInstancesCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeLoadBalancersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { DescribeDBInstancesCommand } from "@aws-sdk/client-rds";
import { ListHostedZonesByNameCommand } from "@aws-sdk/client-route-53";
import { afterEach, describe, expect, it } from "vitest";
import { type Clients, clientConfig, errorOf, start } from "./helpers.js";

let c: Clients | undefined;
afterEach(async () => {
  await c?.emu.stop();
  c = undefined;
});

describe("fault injection", () => {
  it("fails exactly the k-th matching call, with each service's own throttling error", async () => {
    c = await start({
      faults: [
        { service: "ec2", operation: "DescribeVpcs", kind: "throttle", atCall: 2 },
        { service: "rds", kind: "throttle", atCall: 1 },
        { service: "elbv2", kind: "unavailable503", atCall: 1 },
        { service: "route53", kind: "error500", atCall: 1 },
      ],
    });
    await c.ec2.send(new DescribeVpcsCommand({}));
    const e = await errorOf(c.ec2.send(new DescribeVpcsCommand({})));
    expect(e.name).toBe("RequestLimitExceeded");
    expect(e.status).toBe(503);
    await c.ec2.send(new DescribeVpcsCommand({}));
    const r = await errorOf(c.rds.send(new DescribeDBInstancesCommand({})));
    expect([r.name, r.status]).toEqual(["Throttling", 400]);
    const l = await errorOf(c.elb.send(new DescribeLoadBalancersCommand({})));
    expect(l.status).toBe(503);
    const z = await errorOf(c.r53.send(new ListHostedZonesByNameCommand({})));
    expect(z.status).toBe(500);

    const log = c.emu.requestLog();
    expect(log.filter((x) => x.fault).map((x) => `${x.service}:${x.operation}:${x.fault}`)).toEqual([
      "ec2:DescribeVpcs:throttle",
      "rds:DescribeDBInstances:throttle",
      "elbv2:DescribeLoadBalancers:unavailable503",
      "route53:ListHostedZonesByName:error500",
    ]);
    expect(c.emu.callCounts()["ec2:DescribeVpcs"]).toBe(3);
  });

  it("recovers from 10% throttling with the SDK's default retry strategy", async () => {
    c = await start({ faults: [{ kind: "throttle", rate: 0.1 }] });
    // Default client settings: standard retry mode, 3 attempts.
    const ec2 = new EC2Client({ ...clientConfig(c.emu), maxAttempts: undefined });
    for (let i = 0; i < 25; i++) {
      const out = await ec2.send(new DescribeInstancesCommand({}));
      expect(out.Reservations).toEqual([]);
    }
    const faults = c.emu.requestLog().filter((x) => x.fault === "throttle");
    expect(faults.length).toBeGreaterThan(0);
    expect(c.emu.callCounts()["ec2:DescribeInstances"]).toBe(25 + faults.length);
  });

  it("answers a real error document for error500, or a proxy's plain-text page with `plainText`", async () => {
    c = await start({ faults: [{ service: "rds", kind: "error500", atCall: 1 }] });
    // What the query services answer for an internal failure: an ErrorResponse naming the request.
    const r = await errorOf(c.rds.send(new DescribeDBInstancesCommand({})));
    expect([r.name, r.status]).toEqual(["InternalFailure", 500]);
    c.emu.addFault({ service: "ec2", kind: "unavailable503", plainText: true, times: 1 });
    c.emu.addFault({ service: "route53", kind: "error500", plainText: true, times: 1 });
    // No error document to read: the SDK reports a deserialization error, the status only in $metadata.
    const e = await errorOf(c.ec2.send(new DescribeVpcsCommand({})));
    expect([e.status, e.message]).toEqual([503, expect.stringMatching(/Deserialization error/)]);
    const z = await errorOf(c.r53.send(new ListHostedZonesByNameCommand({})));
    expect([z.status, z.message]).toEqual([500, expect.stringMatching(/Deserialization error/)]);
    expect(c.emu.requestLog().map((x) => `${x.service}:${x.status}:${x.fault}`)).toEqual([
      "rds:500:error500",
      "ec2:503:unavailable503",
      "route53:500:error500",
    ]);
  });

  it("can slow a call down, limit a fault with `times`, and be cleared", async () => {
    c = await start();
    c.emu.addFault({ operation: "DescribeVpcs", kind: "slow", delayMs: 150 });
    const t0 = Date.now();
    await c.ec2.send(new DescribeVpcsCommand({}));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    c.emu.clearFaults();
    c.emu.addFault({ operation: "DescribeVpcs", kind: "error500", rate: 1, times: 1 });
    expect((await errorOf(c.ec2.send(new DescribeVpcsCommand({})))).status).toBe(500);
    await c.ec2.send(new DescribeVpcsCommand({}));
    expect(c.emu.requestLog().map((x) => x.fault ?? "-")).toEqual(["slow", "error500", "-"]);
  });
});

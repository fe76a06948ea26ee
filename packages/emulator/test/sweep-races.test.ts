import { DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeTagsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  CreateDBSubnetGroupCommand,
  DeleteDBSubnetGroupCommand,
  DescribeDBSubnetGroupsCommand,
  ListTagsForResourceCommand,
} from "@aws-sdk/client-rds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, errorOf, start } from "./helpers.js";

// What a destroy sweep meets when another cluster deletes objects between its listing and its describing.
let c: Clients;
let subnets: { SubnetId?: string; VpcId?: string }[];
beforeAll(async () => {
  c = await start();
  subnets = (
    await c.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }))
  ).Subnets!;
});
afterAll(() => c?.emu.stop());

describe("objects that vanish between listing and describing", () => {
  it("ELBv2 DescribeTags fails the whole batch for one missing target group", async () => {
    const make = async (name: string) =>
      (
        await c.elb.send(
          new CreateTargetGroupCommand({
            Name: name,
            Protocol: "TCP",
            Port: 80,
            VpcId: subnets[0]!.VpcId!,
            Tags: [{ Key: "k3sinfra:cluster", Value: name }],
          }),
        )
      ).TargetGroups![0]!.TargetGroupArn!;
    const kept = await make("kept");
    const gone = await make("gone");
    await c.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: gone }));
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTags.html
    const e = await errorOf(c.elb.send(new DescribeTagsCommand({ ResourceArns: [kept, gone] })));
    expect(e).toMatchObject({ name: "TargetGroupNotFoundException", status: 400 });
    const alone = await c.elb.send(new DescribeTagsCommand({ ResourceArns: [kept] }));
    expect(alone.TagDescriptions?.[0]?.Tags).toEqual([{ Key: "k3sinfra:cluster", Value: "kept" }]);
  });

  it("RDS keeps DB subnet group tags for ListTagsForResource only; a deleted group is not found", async () => {
    await c.rds.send(
      new CreateDBSubnetGroupCommand({
        DBSubnetGroupName: "swept",
        DBSubnetGroupDescription: "x",
        SubnetIds: subnets.slice(0, 2).map((s) => s.SubnetId!),
        Tags: [{ Key: "k3sinfra:cluster", Value: "swept" }],
      }),
    );
    const group = (await c.rds.send(new DescribeDBSubnetGroupsCommand({}))).DBSubnetGroups!.find(
      (g) => g.DBSubnetGroupName === "swept",
    )!;
    // The DBSubnetGroup shape has no TagList.
    expect(group).not.toHaveProperty("TagList");
    const tags = await c.rds.send(new ListTagsForResourceCommand({ ResourceName: group.DBSubnetGroupArn }));
    expect(tags.TagList).toEqual([{ Key: "k3sinfra:cluster", Value: "swept" }]);
    await c.rds.send(new DeleteDBSubnetGroupCommand({ DBSubnetGroupName: "swept" }));
    const e = await errorOf(
      c.rds.send(new ListTagsForResourceCommand({ ResourceName: group.DBSubnetGroupArn })),
    );
    expect(e.name).toBe("DBSubnetGroupNotFoundFault");
  });
});

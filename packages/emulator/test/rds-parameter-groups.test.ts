import { CreateSecurityGroupCommand, DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import {
  AddTagsToResourceCommand,
  CreateDBInstanceCommand,
  type CreateDBInstanceCommandInput,
  CreateDBParameterGroupCommand,
  CreateDBSubnetGroupCommand,
  DeleteDBInstanceCommand,
  DeleteDBParameterGroupCommand,
  DescribeDBInstancesCommand,
  DescribeDBParameterGroupsCommand,
  DescribeDBParametersCommand,
  ListTagsForResourceCommand,
  ModifyDBInstanceCommand,
  ModifyDBParameterGroupCommand,
  RebootDBInstanceCommand,
} from "@aws-sdk/client-rds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, errorOf, start } from "./helpers.js";

// The emulator's clock, moved by hand: lifecycles are crossed without sleeping.
let now = Date.UTC(2026, 0, 1);
const advance = (seconds: number) => {
  now += seconds * 1000;
};
let c: Clients;
let sgId: string;
const ARN = (name: string) => `arn:aws:rds:us-east-1:123456789012:pg:${name}`;

const instance = (
  id: string,
  over: Partial<CreateDBInstanceCommandInput> = {},
): CreateDBInstanceCommandInput => ({
  DBInstanceIdentifier: id,
  DBInstanceClass: "db.t3.medium",
  Engine: "mysql",
  EngineVersion: "8.4",
  MasterUsername: "k3s",
  MasterUserPassword: "s3cretPassw0rd",
  AllocatedStorage: 20,
  DBSubnetGroupName: "pg-db",
  VpcSecurityGroupIds: [sgId],
  ...over,
});
const createGroup = (name: string, family = "mysql8.4") =>
  c.rds.send(
    new CreateDBParameterGroupCommand({
      DBParameterGroupName: name,
      DBParameterGroupFamily: family,
      Description: `test ${name}`,
      Tags: [{ Key: "k3sinfra:cluster", Value: "pg" }],
    }),
  );
const describeDb = async (id: string) =>
  (await c.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances![0]!;
const available = async (id: string) => {
  advance(3600);
  expect((await describeDb(id)).DBInstanceStatus).toBe("available");
};

beforeAll(async () => {
  c = await start({ timeScale: 1, clock: () => now });
  const subnets = await c.ec2.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }),
  );
  await c.rds.send(
    new CreateDBSubnetGroupCommand({
      DBSubnetGroupName: "pg-db",
      DBSubnetGroupDescription: "pg",
      SubnetIds: subnets.Subnets!.map((s) => s.SubnetId!),
    }),
  );
  sgId = (await c.ec2.send(new CreateSecurityGroupCommand({ GroupName: "pgdb", Description: "db" })))
    .GroupId!;
});
afterAll(async () => {
  await c.emu.stop();
});

describe("CreateDBParameterGroup / DescribeDBParameterGroups", () => {
  it("creates a tagged group stored lower-case, lists it with the default groups, and finds it by name", async () => {
    const out = await createGroup("Alpha-Params");
    expect(out.DBParameterGroup).toEqual({
      DBParameterGroupName: "alpha-params",
      DBParameterGroupFamily: "mysql8.4",
      Description: "test Alpha-Params",
      DBParameterGroupArn: ARN("alpha-params"),
    });
    const one = await c.rds.send(
      new DescribeDBParameterGroupsCommand({ DBParameterGroupName: "ALPHA-params" }),
    );
    expect(one.DBParameterGroups?.map((g) => g.DBParameterGroupName)).toEqual(["alpha-params"]);
    const all = await c.rds.send(new DescribeDBParameterGroupsCommand({}));
    const names = all.DBParameterGroups!.map((g) => g.DBParameterGroupName);
    expect(names).toContain("alpha-params");
    expect(names).toContain("default.mysql8.0");
    expect(names).toContain("default.mysql8.4");
    const tags = await c.rds.send(new ListTagsForResourceCommand({ ResourceName: ARN("alpha-params") }));
    expect(tags.TagList).toEqual([{ Key: "k3sinfra:cluster", Value: "pg" }]);
    await c.rds.send(
      new AddTagsToResourceCommand({
        ResourceName: ARN("alpha-params"),
        Tags: [{ Key: "extra", Value: "1" }],
      }),
    );
    const more = await c.rds.send(new ListTagsForResourceCommand({ ResourceName: ARN("alpha-params") }));
    expect(more.TagList).toContainEqual({ Key: "extra", Value: "1" });
    const item = c.emu.inventory().find((i) => i.type === "db-parameter-group" && i.id === "alpha-params");
    expect(item).toMatchObject({ service: "rds", region: "us-east-1", state: "available" });
    expect(item?.tags).toEqual({ "k3sinfra:cluster": "pg", extra: "1" });
  });

  it("refuses a duplicate name, an unknown family, a bad name, and reports an unknown group as not found", async () => {
    await createGroup("dup-params");
    expect(await errorOf(createGroup("DUP-params"))).toMatchObject({
      name: "DBParameterGroupAlreadyExistsFault",
      status: 400,
    });
    expect(await errorOf(createGroup("odd-family", "mysql5.7"))).toMatchObject({
      name: "InvalidParameterValue",
      message: expect.stringContaining("mysql5.7"),
    });
    for (const bad of ["1starts-with-digit", "ends-", "two--hyphens", "has.dot"])
      expect((await errorOf(createGroup(bad))).name, bad).toBe("InvalidParameterValue");
    const missing = await errorOf(
      c.rds.send(new DescribeDBParameterGroupsCommand({ DBParameterGroupName: "nope" })),
    );
    expect(missing).toMatchObject({ name: "DBParameterGroupNotFoundFault", status: 404 });
    expect(
      (await errorOf(c.rds.send(new ListTagsForResourceCommand({ ResourceName: ARN("nope") })))).name,
    ).toBe("DBParameterGroupNotFoundFault");
  });
});

describe("ModifyDBParameterGroup / DescribeDBParameters", () => {
  it("sets require_secure_transport to 1 and reports it as a user parameter", async () => {
    await createGroup("tls-params");
    const before = await c.rds.send(
      new DescribeDBParametersCommand({ DBParameterGroupName: "tls-params", Source: "user" }),
    );
    expect(before.Parameters).toEqual([]);
    const all = await c.rds.send(new DescribeDBParametersCommand({ DBParameterGroupName: "tls-params" }));
    expect(all.Parameters?.find((p) => p.ParameterName === "require_secure_transport")).toMatchObject({
      ParameterValue: "0",
      Source: "engine-default",
      ApplyType: "dynamic",
      DataType: "boolean",
      AllowedValues: "0,1",
      IsModifiable: true,
    });
    const out = await c.rds.send(
      new ModifyDBParameterGroupCommand({
        DBParameterGroupName: "tls-params",
        Parameters: [
          { ParameterName: "require_secure_transport", ParameterValue: "1", ApplyMethod: "immediate" },
        ],
      }),
    );
    expect(out.DBParameterGroupName).toBe("tls-params");
    const user = await c.rds.send(
      new DescribeDBParametersCommand({ DBParameterGroupName: "tls-params", Source: "user" }),
    );
    expect(user.Parameters?.map((p) => [p.ParameterName, p.ParameterValue, p.Source])).toEqual([
      ["require_secure_transport", "1", "user"],
    ]);
  });

  it("validates the parameter name, its value, the apply method of a static parameter, and default groups", async () => {
    await createGroup("bad-params");
    const modify = (
      ParameterName: string,
      ParameterValue: string,
      ApplyMethod: "immediate" | "pending-reboot",
    ) =>
      c.rds.send(
        new ModifyDBParameterGroupCommand({
          DBParameterGroupName: "bad-params",
          Parameters: [{ ParameterName, ParameterValue, ApplyMethod }],
        }),
      );
    expect(await errorOf(modify("no_such_parameter", "1", "immediate"))).toMatchObject({
      name: "InvalidParameterValue",
      message: "Could not find parameter with name: no_such_parameter",
    });
    expect(await errorOf(modify("require_secure_transport", "ON", "immediate"))).toMatchObject({
      name: "InvalidParameterValue",
      message: "Invalid parameter value: ON for: require_secure_transport allowed values are: 0,1",
    });
    expect((await errorOf(modify("tls_version", "TLSv1.2", "immediate"))).name).toBe(
      "InvalidParameterCombination",
    );
    await modify("tls_version", "TLSv1.3", "pending-reboot");
    expect(
      (
        await errorOf(
          c.rds.send(
            new ModifyDBParameterGroupCommand({
              DBParameterGroupName: "default.mysql8.4",
              Parameters: [
                { ParameterName: "require_secure_transport", ParameterValue: "1", ApplyMethod: "immediate" },
              ],
            }),
          ),
        )
      ).message,
    ).toBe("Cannot modify a default parameter group.");
    expect(
      (
        await errorOf(
          c.rds.send(
            new ModifyDBParameterGroupCommand({
              DBParameterGroupName: "nope",
              Parameters: [
                { ParameterName: "require_secure_transport", ParameterValue: "1", ApplyMethod: "immediate" },
              ],
            }),
          ),
        )
      ).name,
    ).toBe("DBParameterGroupNotFoundFault");
    expect(
      (await errorOf(c.rds.send(new DescribeDBParametersCommand({ DBParameterGroupName: "nope" })))).name,
    ).toBe("DBParameterGroupNotFoundFault");
  });
});

describe("DB instances and their parameter group", () => {
  it("creates an instance on a group of its family, refuses an unknown group or another family", async () => {
    await createGroup("i1-params");
    expect(
      await errorOf(
        c.rds.send(new CreateDBInstanceCommand(instance("i0", { DBParameterGroupName: "nope" }))),
      ),
    ).toMatchObject({ name: "DBParameterGroupNotFoundFault", status: 404 });
    await createGroup("old-params", "mysql8.0");
    expect(
      await errorOf(
        c.rds.send(new CreateDBInstanceCommand(instance("i0", { DBParameterGroupName: "old-params" }))),
      ),
    ).toMatchObject({ name: "InvalidParameterCombination", message: expect.stringContaining("mysql8.4") });
    const out = await c.rds.send(
      new CreateDBInstanceCommand(instance("i1", { DBParameterGroupName: "I1-params" })),
    );
    expect(out.DBInstance?.DBParameterGroups).toEqual([
      { DBParameterGroupName: "i1-params", ParameterApplyStatus: "in-sync" },
    ]);
    const plain = await c.rds.send(new CreateDBInstanceCommand(instance("i2")));
    expect(plain.DBInstance?.DBParameterGroups).toEqual([
      { DBParameterGroupName: "default.mysql8.4", ParameterApplyStatus: "in-sync" },
    ]);
  });

  it("moves an instance to another group at once, pending a reboot that RebootDBInstance does", async () => {
    await available("i2");
    await c.rds.send(
      new ModifyDBInstanceCommand({ DBInstanceIdentifier: "i2", DBParameterGroupName: "i1-params" }),
    );
    const moved = await describeDb("i2");
    expect(moved.DBParameterGroups).toEqual([
      { DBParameterGroupName: "i1-params", ParameterApplyStatus: "pending-reboot" },
    ]);
    expect(moved.DBInstanceStatus).toBe("available");
    expect(
      (
        await errorOf(
          c.rds.send(
            new ModifyDBInstanceCommand({ DBInstanceIdentifier: "i2", DBParameterGroupName: "old-params" }),
          ),
        )
      ).name,
    ).toBe("InvalidParameterCombination");
    const reboot = await c.rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: "i2" }));
    expect(reboot.DBInstance?.DBInstanceStatus).toBe("rebooting");
    expect(
      (await errorOf(c.rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: "i2" })))).name,
    ).toBe("InvalidDBInstanceStateFault");
    advance(61);
    const after = await describeDb("i2");
    expect(after.DBInstanceStatus).toBe("available");
    expect(after.DBParameterGroups).toEqual([
      { DBParameterGroupName: "i1-params", ParameterApplyStatus: "in-sync" },
    ]);
  });

  it("a static change pends a reboot of the members; a dynamic immediate one does not", async () => {
    await c.rds.send(
      new ModifyDBParameterGroupCommand({
        DBParameterGroupName: "i1-params",
        Parameters: [
          { ParameterName: "require_secure_transport", ParameterValue: "1", ApplyMethod: "immediate" },
        ],
      }),
    );
    expect((await describeDb("i2")).DBParameterGroups?.[0]?.ParameterApplyStatus).toBe("in-sync");
    await c.rds.send(
      new ModifyDBParameterGroupCommand({
        DBParameterGroupName: "i1-params",
        Parameters: [
          { ParameterName: "tls_version", ParameterValue: "TLSv1.3", ApplyMethod: "pending-reboot" },
        ],
      }),
    );
    expect((await describeDb("i2")).DBParameterGroups?.[0]?.ParameterApplyStatus).toBe("pending-reboot");
  });

  it("a major upgrade off a custom group needs a group of the new family", async () => {
    await c.rds.send(
      new CreateDBInstanceCommand(
        instance("i3", { EngineVersion: "8.0", DBParameterGroupName: "old-params" }),
      ),
    );
    await available("i3");
    expect(
      await errorOf(
        c.rds.send(
          new ModifyDBInstanceCommand({
            DBInstanceIdentifier: "i3",
            EngineVersion: "8.4",
            ApplyImmediately: true,
          }),
        ),
      ),
    ).toMatchObject({ name: "InvalidParameterCombination", message: expect.stringContaining("mysql8.4") });
    await c.rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: "i3",
        EngineVersion: "8.4",
        DBParameterGroupName: "i1-params",
        ApplyImmediately: true,
      }),
    );
    expect((await describeDb("i3")).DBParameterGroups?.[0]?.DBParameterGroupName).toBe("i1-params");
  });
});

describe("DeleteDBParameterGroup", () => {
  it("refuses while an instance (even a deleting one) uses the group, and a default group; deletes after", async () => {
    await createGroup("del-params");
    await c.rds.send(new CreateDBInstanceCommand(instance("i4", { DBParameterGroupName: "del-params" })));
    const del = () => c.rds.send(new DeleteDBParameterGroupCommand({ DBParameterGroupName: "del-params" }));
    expect(await errorOf(del())).toMatchObject({
      name: "InvalidDBParameterGroupStateFault",
      message:
        "One or more database instances are still members of this parameter group del-params, so the group cannot be deleted",
    });
    await c.rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "i4", SkipFinalSnapshot: true }));
    expect((await errorOf(del())).name).toBe("InvalidDBParameterGroupStateFault");
    advance(3600);
    await del();
    expect(c.emu.inventory().some((i) => i.id === "del-params")).toBe(false);
    expect((await errorOf(del())).name).toBe("DBParameterGroupNotFoundFault");
    expect(
      await errorOf(
        c.rds.send(new DeleteDBParameterGroupCommand({ DBParameterGroupName: "default.mysql8.4" })),
      ),
    ).toMatchObject({
      name: "InvalidDBParameterGroupStateFault",
      message: "Default DBParameterGroup cannot be deleted: default.mysql8.4",
    });
  });
});

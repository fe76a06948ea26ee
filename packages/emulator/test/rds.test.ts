import { CreateSecurityGroupCommand, DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import {
  AddTagsToResourceCommand,
  CreateDBInstanceCommand,
  type CreateDBInstanceCommandInput,
  CreateDBSubnetGroupCommand,
  DeleteDBInstanceCommand,
  DeleteDBSubnetGroupCommand,
  DescribeDBInstancesCommand,
  DescribeDBSubnetGroupsCommand,
  ListTagsForResourceCommand,
  ModifyDBInstanceCommand,
  ModifyDBSubnetGroupCommand,
  waitUntilDBInstanceAvailable,
  waitUntilDBInstanceDeleted,
} from "@aws-sdk/client-rds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, errorOf, fast, start } from "./helpers.js";

let c: Clients;
let subnetIds: string[];
let sgId: string;

const base = (id: string): CreateDBInstanceCommandInput => ({
  DBInstanceIdentifier: id,
  DBInstanceClass: "db.t3.medium",
  Engine: "mysql",
  EngineVersion: "8.4",
  MasterUsername: "k3s",
  MasterUserPassword: "s3cretPassw0rd",
  AllocatedStorage: 20,
  StorageType: "gp3",
  DBSubnetGroupName: "k3s-db",
  VpcSecurityGroupIds: [sgId],
  PubliclyAccessible: false,
  StorageEncrypted: true,
  BackupRetentionPeriod: 7,
  MultiAZ: true,
  Tags: [{ Key: "cluster", Value: "c1" }],
});

beforeAll(async () => {
  c = await start();
  const subnets = await c.ec2.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }),
  );
  subnetIds = subnets.Subnets!.map((s) => s.SubnetId!);
  sgId = (await c.ec2.send(new CreateSecurityGroupCommand({ GroupName: "db", Description: "db" }))).GroupId!;
});
afterAll(async () => {
  await c.emu.stop();
});

describe("RDS subnet groups", () => {
  it("requires two AZs", async () => {
    const e = await errorOf(
      c.rds.send(
        new CreateDBSubnetGroupCommand({
          DBSubnetGroupName: "one-az",
          DBSubnetGroupDescription: "x",
          SubnetIds: [subnetIds[0]!],
        }),
      ),
    );
    expect(e.name).toBe("DBSubnetGroupDoesNotCoverEnoughAZs");
  });

  it("creates, describes and refuses duplicates", async () => {
    const g = await c.rds.send(
      new CreateDBSubnetGroupCommand({
        DBSubnetGroupName: "k3s-db",
        DBSubnetGroupDescription: "k3s",
        SubnetIds: subnetIds.slice(0, 3),
        Tags: [{ Key: "cluster", Value: "c1" }],
      }),
    );
    expect(g.DBSubnetGroup?.Subnets).toHaveLength(3);
    expect(g.DBSubnetGroup?.Subnets?.[0]?.SubnetAvailabilityZone?.Name).toMatch(/^us-east-1[a-f]$/);
    const d = await c.rds.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: "k3s-db" }));
    expect(d.DBSubnetGroups?.[0]?.VpcId).toBe(g.DBSubnetGroup?.VpcId);
    const dup = await errorOf(
      c.rds.send(
        new CreateDBSubnetGroupCommand({
          DBSubnetGroupName: "k3s-db",
          DBSubnetGroupDescription: "k3s",
          SubnetIds: subnetIds.slice(0, 2),
        }),
      ),
    );
    expect(dup.name).toBe("DBSubnetGroupAlreadyExistsFault");
    const mod = await c.rds.send(
      new ModifyDBSubnetGroupCommand({ DBSubnetGroupName: "k3s-db", SubnetIds: subnetIds.slice(0, 2) }),
    );
    expect(mod.DBSubnetGroup?.Subnets).toHaveLength(2);
    const modBad = await errorOf(
      c.rds.send(
        new ModifyDBSubnetGroupCommand({ DBSubnetGroupName: "k3s-db", SubnetIds: subnetIds.slice(0, 1) }),
      ),
    );
    expect(modBad.name).toBe("DBSubnetGroupDoesNotCoverEnoughAZs");
    await c.rds.send(
      new ModifyDBSubnetGroupCommand({ DBSubnetGroupName: "k3s-db", SubnetIds: subnetIds.slice(0, 3) }),
    );
    const missing = await errorOf(
      c.rds.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: "nope" })),
    );
    expect(missing.name).toBe("DBSubnetGroupNotFoundFault");
    expect(missing.status).toBe(404);
  });
});

describe("RDS instances", () => {
  it("validates identifiers, passwords, user names and versions", async () => {
    const cases: [Partial<CreateDBInstanceCommandInput>, RegExp][] = [
      [{ DBInstanceIdentifier: "1abc" }, /not a valid identifier/],
      [{ DBInstanceIdentifier: "ab--c" }, /not a valid identifier/],
      [{ DBInstanceIdentifier: "abc-" }, /not a valid identifier/],
      [{ DBInstanceIdentifier: "a".repeat(64) }, /not a valid identifier/],
      [{ MasterUserPassword: "short" }, /shorter than 8/],
      [{ MasterUserPassword: "has@sign12" }, /Only printable ASCII/],
      [{ MasterUserPassword: "has space12" }, /Only printable ASCII/],
      [{ MasterUserPassword: "x".repeat(42) }, /longer than 41/],
      [{ MasterUsername: "1user" }, /MasterUsername/],
      [{ MasterUsername: undefined }, /MasterUsername must be provided/],
      [{ EngineVersion: "5.5" }, /Cannot find version 5.5/],
      [{ BackupRetentionPeriod: 36 }, /backup retention/i],
    ];
    for (const [patch, re] of cases) {
      const e = await errorOf(c.rds.send(new CreateDBInstanceCommand({ ...base("bad"), ...patch })));
      expect(e.message).toMatch(re);
    }
    const wrongClass = await errorOf(
      c.rds.send(new CreateDBInstanceCommand({ ...base("bad"), DBInstanceClass: "db.x9.huge" })),
    );
    expect(wrongClass.name).toBe("InvalidParameterCombination");
  });

  it("walks creating → backing-up → available, with waiter, tags, protection and deletion", async () => {
    const created = await c.rds.send(
      new CreateDBInstanceCommand({ ...base("k3s-ds"), DeletionProtection: true }),
    );
    expect(created.DBInstance?.DBInstanceStatus).toBe("creating");
    expect(created.DBInstance?.EngineVersion).toMatch(/^8\.4\.\d+$/);
    expect(created.DBInstance?.Endpoint).toBeUndefined();
    const dup = await errorOf(c.rds.send(new CreateDBInstanceCommand(base("K3S-DS"))));
    expect(dup.name).toBe("DBInstanceAlreadyExistsFault");

    const seen = new Set<string>();
    const w = await waitUntilDBInstanceAvailable(
      { client: c.rds, maxWaitTime: 10, minDelay: 0.02, maxDelay: 0.03 },
      { DBInstanceIdentifier: "k3s-ds" },
    );
    expect(w.state).toBe("SUCCESS");
    const d = await c.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: "k3s-ds" }));
    const db = d.DBInstances![0]!;
    seen.add(db.DBInstanceStatus!);
    expect(db.DBInstanceStatus).toBe("available");
    expect(db.Endpoint?.Address).toMatch(/^k3s-ds\.[a-z0-9]{12}\.us-east-1\.rds\.amazonaws\.com$/);
    expect(db.Endpoint?.Port).toBe(3306);
    expect(db.VpcSecurityGroups?.[0]?.VpcSecurityGroupId).toBe(sgId);
    expect(db.MultiAZ).toBe(true);
    expect(db.StorageEncrypted).toBe(true);
    expect(db.TagList).toContainEqual({ Key: "cluster", Value: "c1" });

    await c.rds.send(
      new AddTagsToResourceCommand({
        ResourceName: db.DBInstanceArn,
        Tags: [{ Key: "role", Value: "datastore" }],
      }),
    );
    const tags = await c.rds.send(new ListTagsForResourceCommand({ ResourceName: db.DBInstanceArn }));
    expect(tags.TagList?.map((t) => t.Key).sort()).toEqual(["cluster", "role"]);

    const inUse = await errorOf(c.rds.send(new DeleteDBSubnetGroupCommand({ DBSubnetGroupName: "k3s-db" })));
    expect(inUse.name).toBe("InvalidDBSubnetGroupStateFault");

    // An increase under 10% is rounded up to 10% (ModifyDBInstance reference).
    const grow = await c.rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: "k3s-ds",
        AllocatedStorage: (db.AllocatedStorage ?? 0) + 1,
      }),
    );
    expect(grow.DBInstance?.PendingModifiedValues?.AllocatedStorage).toBe(
      Math.ceil((db.AllocatedStorage ?? 0) * 1.1),
    );

    const prot = await errorOf(
      c.rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "k3s-ds", SkipFinalSnapshot: true })),
    );
    expect(prot.name).toBe("InvalidParameterCombination");
    expect(prot.message).toMatch(/deletion protection/);

    await c.rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: "k3s-ds",
        DeletionProtection: false,
        ApplyImmediately: true,
      }),
    );
    const noSnap = await errorOf(c.rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: "k3s-ds" })));
    expect(noSnap.message).toMatch(/FinalDBSnapshotIdentifier is required/);
    const del = await c.rds.send(
      new DeleteDBInstanceCommand({ DBInstanceIdentifier: "k3s-ds", SkipFinalSnapshot: true }),
    );
    expect(del.DBInstance?.DBInstanceStatus).toBe("deleting");
    expect(c.emu.inventory({ tags: { cluster: "c1" } }).find((i) => i.type === "db-instance")?.state).toBe(
      "deleting",
    );
    await waitUntilDBInstanceDeleted({ client: c.rds, ...fast }, { DBInstanceIdentifier: "k3s-ds" });
    const gone = await errorOf(
      c.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: "k3s-ds" })),
    );
    expect(gone.name).toBe("DBInstanceNotFoundFault");
    await c.rds.send(new DeleteDBSubnetGroupCommand({ DBSubnetGroupName: "k3s-db" }));
  });
});

import { CreateSecurityGroupCommand, DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import {
  CreateDBInstanceCommand,
  CreateDBSubnetGroupCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  waitUntilDBInstanceAvailable,
} from "@aws-sdk/client-rds";
import { createConnection } from "mysql2/promise";
import { describe, expect, it } from "vitest";
import { fast, start } from "./helpers.js";

// Runs when a MariaDB admin URL is given (CI: eval "$(.ci/mariadb.sh)").
const url = process.env.K3SINFRA_TEST_MYSQL_URL;

describe.skipIf(!url)("RDS backed by a real MariaDB", () => {
  it("gives each DB instance a local port that reaches the server as its master user", async () => {
    const u = new URL(url!);
    const c = await start({
      mysql: {
        host: u.hostname,
        port: Number(u.port || 3306),
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
      },
    });
    try {
      const subnets = (await c.ec2.send(new DescribeSubnetsCommand({}))).Subnets!.map((s) => s.SubnetId!);
      const sg = await c.ec2.send(new CreateSecurityGroupCommand({ GroupName: "db", Description: "db" }));
      await c.rds.send(
        new CreateDBSubnetGroupCommand({
          DBSubnetGroupName: "g",
          DBSubnetGroupDescription: "g",
          SubnetIds: subnets.slice(0, 2),
        }),
      );
      const password = `Pw${Date.now()}x`;
      await c.rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: "real-db",
          DBInstanceClass: "db.t3.small",
          Engine: "mysql",
          MasterUsername: "emu_master",
          MasterUserPassword: password,
          AllocatedStorage: 20,
          DBSubnetGroupName: "g",
          VpcSecurityGroupIds: [sg.GroupId!],
          DBName: "k3s",
        }),
      );
      await waitUntilDBInstanceAvailable({ client: c.rds, ...fast }, { DBInstanceIdentifier: "real-db" });
      const db = (await c.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: "real-db" })))
        .DBInstances![0]!;
      expect(db.Endpoint?.Address).toMatch(/^real-db\..*\.rds\.amazonaws\.com$/);
      const item = c.emu.inventory().find((i) => i.type === "db-instance");
      expect(item?.connect).toEqual({ host: "127.0.0.1", port: db.Endpoint?.Port });

      const conn = await createConnection({
        host: "127.0.0.1",
        port: item!.connect!.port,
        user: "emu_master",
        password,
        database: "k3s",
      });
      const [rows] = await conn.query("SELECT CURRENT_USER() AS u");
      expect((rows as { u: string }[])[0]?.u).toBe("emu_master@%");
      await conn.end();

      await c.rds.send(
        new DeleteDBInstanceCommand({ DBInstanceIdentifier: "real-db", SkipFinalSnapshot: true }),
      );
      await expect(
        createConnection({
          host: "127.0.0.1",
          port: item!.connect!.port,
          user: "emu_master",
          password,
          connectTimeout: 1000,
        }),
      ).rejects.toThrow();
    } finally {
      await c.emu.stop();
    }
  });
});

import { type MysqlTarget, MysqlBacking as ProxiedMysql } from "../../mysql-backing.js";

export type { MysqlTarget } from "../../mysql-backing.js";

/** RDS instances on a real MariaDB: the emulator's shared backing, with the master user RDS creates. */
export class MysqlBacking extends ProxiedMysql {
  constructor(
    target: MysqlTarget,
    private readonly log: (line: string) => void,
  ) {
    super(target);
  }

  /** Create (or re-password) the master user, with every privilege, and the initial database. */
  ensureMasterUser(user: string, password: string, dbName?: string): Promise<void> {
    return this.run([
      ["CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?", [user, password]],
      ["ALTER USER ?@'%' IDENTIFIED BY ?", [user, password]],
      ["GRANT ALL PRIVILEGES ON *.* TO ?@'%' WITH GRANT OPTION", [user]],
      ...(dbName
        ? [[`CREATE DATABASE IF NOT EXISTS \`${dbName.replace(/`/g, "")}\``, []] as [string, unknown[]]]
        : []),
    ]);
  }

  describe(): string {
    return `${this.target.host}:${this.target.port}`;
  }

  warn(message: string): void {
    this.log(message);
  }
}

import { MysqlBacking as ProxiedMysql } from "../mysql-backing.js";

export type { MysqlTarget } from "../mysql-backing.js";

/** Flexible servers on a real MariaDB: the emulator's shared backing, with the admin and databases ARM creates. */
export class MysqlBacking extends ProxiedMysql {
  /** The server's admin user (created, or re-passworded), with every privilege. */
  ensureAdmin(user: string, password: string): Promise<void> {
    return this.run([
      ["CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?", [user, password]],
      ["ALTER USER ?@'%' IDENTIFIED BY ?", [user, password]],
      ["GRANT ALL PRIVILEGES ON *.* TO ?@'%' WITH GRANT OPTION", [user]],
    ]);
  }

  ensureDatabase(name: string): Promise<void> {
    return this.run([[`CREATE DATABASE IF NOT EXISTS \`${name.replace(/`/g, "")}\``, []]]);
  }
}

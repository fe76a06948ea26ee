/**
 * Optional real MariaDB/MySQL backing for RDS instances: each DB instance gets its own TCP port on
 * 127.0.0.1 (a plain byte-forwarding proxy to the configured server), and its master user is created
 * on that server. See docs/emulator.md ("RDS on a real MariaDB").
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

export class MysqlBacking {
  private readonly proxies = new Map<string, { server: Server; sockets: Set<Socket> }>();

  constructor(
    private readonly target: MysqlTarget,
    private readonly log: (line: string) => void,
  ) {}

  /** Listen on 127.0.0.1:`preferredPort` (or any free port) and forward to the server. Returns the port. */
  async openProxy(key: string, preferredPort?: number): Promise<number> {
    await this.closeProxy(key);
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = createConnection({ host: this.target.host, port: this.target.port });
      sockets.add(client);
      sockets.add(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      const done = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on("error", done);
      upstream.on("error", done);
      client.on("close", done);
      upstream.on("close", done);
    });
    const listen = (port: number) =>
      new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
          server.off("error", reject);
          const addr = server.address();
          resolve(typeof addr === "object" && addr ? addr.port : port);
        });
      });
    let port: number;
    try {
      port = await listen(preferredPort ?? 0);
    } catch {
      port = await listen(0);
    }
    this.proxies.set(key, { server, sockets });
    return port;
  }

  async closeProxy(key: string): Promise<void> {
    const p = this.proxies.get(key);
    if (!p) return;
    this.proxies.delete(key);
    for (const s of p.sockets) s.destroy();
    await new Promise<void>((resolve) => p.server.close(() => resolve()));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.proxies.keys()].map((k) => this.closeProxy(k)));
  }

  /** Create (or re-password) the master user, with every privilege, and the initial database. */
  async ensureMasterUser(user: string, password: string, dbName?: string): Promise<void> {
    // mysql2 is loaded only here: an emulator without a MariaDB behind RDS never loads it.
    const { createConnection: createSqlConnection } = await import("mysql2/promise");
    const conn = await createSqlConnection({
      host: this.target.host,
      port: this.target.port,
      user: this.target.user,
      password: this.target.password,
      connectTimeout: 5000,
    });
    try {
      await conn.query("CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?", [user, password]);
      await conn.query("ALTER USER ?@'%' IDENTIFIED BY ?", [user, password]);
      await conn.query("GRANT ALL PRIVILEGES ON *.* TO ?@'%' WITH GRANT OPTION", [user]);
      if (dbName) await conn.query(`CREATE DATABASE IF NOT EXISTS \`${dbName.replace(/`/g, "")}\``);
    } finally {
      await conn.end().catch(() => {});
    }
  }

  describe(): string {
    return `${this.target.host}:${this.target.port}`;
  }

  warn(message: string): void {
    this.log(message);
  }
}

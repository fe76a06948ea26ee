/**
 * Optional real MariaDB/MySQL behind emulated flexible servers (the `mysql` option): each server gets its own
 * TCP port on 127.0.0.1, a byte-forwarding proxy to that server, and its admin user and databases are made
 * there. (A copy of the AWS cloud's helper, so the two clouds share no code.)
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

  constructor(private readonly target: MysqlTarget) {}

  /** Listens on 127.0.0.1:`preferred` (or any free port) and forwards to the server; returns the port. */
  async openProxy(key: string, preferred?: number): Promise<number> {
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
      for (const s of [client, upstream]) {
        s.on("error", done);
        s.on("close", done);
      }
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
      port = await listen(preferred ?? 0);
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

  /** Runs statements as the backing server's own admin (mysql2 loads only here). */
  private async sql(
    run: (q: (sql: string, args?: unknown[]) => Promise<unknown>) => Promise<void>,
  ): Promise<void> {
    const { createConnection: connect } = await import("mysql2/promise");
    const conn = await connect({ ...this.target, connectTimeout: 5000 });
    try {
      await run((sql, args) => conn.query(sql, args));
    } finally {
      await conn.end().catch(() => {});
    }
  }

  /** The server's admin user (created, or re-passworded), with every privilege. */
  ensureAdmin(user: string, password: string): Promise<void> {
    return this.sql(async (q) => {
      await q("CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?", [user, password]);
      await q("ALTER USER ?@'%' IDENTIFIED BY ?", [user, password]);
      await q("GRANT ALL PRIVILEGES ON *.* TO ?@'%' WITH GRANT OPTION", [user]);
    });
  }

  ensureDatabase(name: string): Promise<void> {
    return this.sql(async (q) => {
      await q(`CREATE DATABASE IF NOT EXISTS \`${name.replace(/`/g, "")}\``);
    });
  }
}

/**
 * Optional real MariaDB/MySQL behind an emulated managed database (RDS, Cloud SQL, flexible server; the `mysql`
 * option): each instance gets its own TCP port on 127.0.0.1, a plain byte-forwarding proxy to the configured
 * server, and its users and databases are created there (docs/emulator.md, "RDS on a real MariaDB"). Each cloud
 * extends it with the statements its API implies.
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

  constructor(protected readonly target: MysqlTarget) {}

  /** Listens on 127.0.0.1:`preferredPort` (or any free port) and forwards to the server; returns the port. */
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
    const port = await listen(preferredPort ?? 0).catch(() => listen(0));
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

  /** Runs statements in order as the server's own admin. */
  async run(statements: [string, unknown[]][]): Promise<void> {
    // mysql2 is loaded only here: an emulator without a MariaDB behind it never loads it.
    const { createConnection: connect } = await import("mysql2/promise");
    const conn = await connect({ ...this.target, connectTimeout: 5000 });
    try {
      for (const [sql, args] of statements) await conn.query(sql, args);
    } finally {
      await conn.end().catch(() => {});
    }
  }
}

import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A request that makes or changes something in the cloud (inserts, creates, versions, policies, DNS changes). */
export const isCreate = (method: string, path: string): boolean =>
  method === "POST" && !/\/(wait|getHealth|listInstances|token)$/.test(path.split("?")[0] ?? "");

/**
 * An HTTP proxy in front of the emulator that plays a process killed right after its k-th successful create
 * call: that call reaches the cloud and succeeds, then `onCrash` runs (abort the run, freeze its state) and
 * every later request is cut off before reaching the cloud, as a dead process sends nothing.
 */
export class CrashProxy {
  readonly #target: URL;
  readonly #server: Server;
  #crashAt: number | undefined;
  #creates = 0;
  #crashed = false;
  #onCrash: () => void = () => undefined;

  constructor(target: string) {
    this.#target = new URL(target);
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (this.#crashed) {
          req.socket.destroy();
          return;
        }
        const body = Buffer.concat(chunks);
        const create = isCreate(req.method ?? "GET", req.url ?? "/");
        const upstream = request(
          {
            host: this.#target.hostname,
            port: this.#target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (up) => {
            const parts: Buffer[] = [];
            up.on("data", (c: Buffer) => parts.push(c));
            up.on("end", () => {
              if (!this.#crashed && create && (up.statusCode ?? 500) < 300) this.#creates++;
              if (!this.#crashed && this.#crashAt !== undefined && this.#creates >= this.#crashAt) {
                this.#crashed = true;
                this.#onCrash();
              }
              // After the crash no reply arrives, not even to calls that were in flight: the process is gone.
              if (this.#crashed) {
                req.socket.destroy();
                return;
              }
              res.writeHead(up.statusCode ?? 500, up.headers);
              res.end(Buffer.concat(parts));
            });
          },
        );
        upstream.on("error", () => req.socket.destroy());
        upstream.end(body);
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Crash after the k-th successful create call (undefined: never), calling `onCrash` then. */
  arm(k: number | undefined, onCrash: () => void = () => undefined): void {
    this.#crashAt = k;
    this.#onCrash = onCrash;
  }

  get creates(): number {
    return this.#creates;
  }

  get crashed(): boolean {
    return this.#crashed;
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * A proxy in front of the emulator that plays a process killed right after its k-th successful change: that call
 * reaches the cloud and succeeds, then `onCrash` runs (the test aborts the run and freezes its state) and every
 * later request is cut off before reaching the cloud — and no reply is delivered, not even to calls in flight —
 * as a dead process sends and hears nothing. Providers' crash tests put it between the SDK and the emulator,
 * whatever the cloud: what counts as a change is theirs to say (`counts`).
 *
 * The Host header is passed on, so a cloud that answers with URLs on the host the client called (Azure's
 * long-running operations) leads the client back through the proxy. One proxy can serve every run of a test
 * (`begin` starts one): a URL the emulator handed out through it stays reachable for the runs after a crash,
 * and a reply to an earlier run's request is never delivered nor counted.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { AddressInfo, Server } from "node:net";
import { makeTlsMaterial } from "./tls.js";

/** One request as it reached the proxy. */
export interface ProxiedCall {
  readonly method: string;
  /** The path with its query. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface CrashProxyOptions {
  /** The emulator's base URL, `http:` or `https:`. */
  readonly target: string;
  /** The CA an `https:` target presents (`emulator.caPem`). */
  readonly targetCa?: string | undefined;
  /** Serve HTTPS, with a certificate from a CA of the proxy's own (`caPem`), for clients that only speak it. */
  readonly https?: boolean | undefined;
  /** The calls a crash may come after: those that create or change something. */
  readonly counts: (call: ProxiedCall) => boolean;
}

type Req = import("node:http").IncomingMessage;
type Res = import("node:http").ServerResponse;

export class CrashProxy {
  readonly #target: URL;
  readonly #options: CrashProxyOptions;
  readonly #server: Server;
  readonly #tls: { caPem: string; key: string; cert: string } | undefined;
  #crashAt: number | undefined;
  #crashed = false;
  #onCrash: () => void = () => undefined;
  #run = 0;
  #requests: ProxiedCall[] = [];
  #changes: ProxiedCall[] = [];

  constructor(options: CrashProxyOptions) {
    this.#options = options;
    this.#target = new URL(options.target);
    this.#tls = options.https ? makeTlsMaterial("127.0.0.1") : undefined;
    const handler = (req: Req, res: Res) => this.#handle(req, res);
    const tls = this.#tls;
    this.#server = tls
      ? (process.getBuiltinModule("node:https") as typeof import("node:https")).createServer(
          { key: tls.key, cert: tls.cert },
          handler,
        )
      : (process.getBuiltinModule("node:http") as typeof import("node:http")).createServer(handler);
  }

  /** The PEM of the CA the proxy's certificate chains to (with `https`); clients must trust it. */
  get caPem(): string | undefined {
    return this.#tls?.caPem;
  }

  /** Listens on a free port of 127.0.0.1; resolves to the proxy's base URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    const port = (this.#server.address() as AddressInfo).port;
    return `${this.#tls ? "https" : "http"}://127.0.0.1:${port}`;
  }

  /**
   * A run begins: what it sent is recorded afresh, and it crashes after its k-th successful counted call
   * (undefined: never), calling `onCrash` then.
   */
  begin(k?: number, onCrash: () => void = () => undefined): void {
    this.#run++;
    this.#crashAt = k;
    this.#onCrash = onCrash;
    this.#requests = [];
    this.#changes = [];
    this.#crashed = false;
  }

  /** Every request of this run that reached the cloud. */
  get requests(): readonly ProxiedCall[] {
    return this.#requests;
  }

  /** The counted calls of this run that succeeded. */
  get changes(): readonly ProxiedCall[] {
    return this.#changes;
  }

  get crashed(): boolean {
    return this.#crashed;
  }

  stop(): Promise<void> {
    const server = this.#server as Server & { closeAllConnections(): void };
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  #handle(req: Req, res: Res): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (this.#crashed) {
        req.socket.destroy();
        return;
      }
      const run = this.#run;
      const body = Buffer.concat(chunks);
      const call: ProxiedCall = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body: body.toString(),
      };
      this.#requests.push(call);
      const counted = this.#options.counts(call);
      const https = this.#target.protocol === "https:";
      const send = https
        ? (process.getBuiltinModule("node:https") as typeof import("node:https")).request
        : (process.getBuiltinModule("node:http") as typeof import("node:http")).request;
      const upstream = send(
        {
          host: this.#target.hostname,
          port: this.#target.port,
          method: call.method,
          path: call.path,
          headers: req.headers,
          ...(https && this.#options.targetCa ? { ca: this.#options.targetCa } : {}),
        },
        (up) => {
          const parts: Buffer[] = [];
          up.on("data", (c: Buffer) => parts.push(c));
          up.on("end", () => {
            if (run !== this.#run) {
              req.socket.destroy();
              return;
            }
            if (!this.#crashed && counted && (up.statusCode ?? 500) < 300) this.#changes.push(call);
            if (!this.#crashed && this.#crashAt !== undefined && this.#changes.length >= this.#crashAt) {
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
  }
}

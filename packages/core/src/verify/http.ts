import type { IncomingHttpHeaders } from "node:http";
import type { ConnectTarget } from "./types.js";

/** An HTTP answer: status, the first 4 KiB of the body, and the headers. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
  readonly location?: string | undefined;
}

/**
 * GET `<scheme>://<hostname><path>` through `target(port)`, with Host (and SNI for https) set to the
 * hostname. Never follows redirects. The certificate is not judged here (the tls check does that).
 */
export function httpGet(
  target: ConnectTarget,
  options: {
    readonly hostname: string;
    readonly path: string;
    readonly https: boolean;
    readonly timeoutMs: number;
    readonly signal?: AbortSignal | undefined;
    readonly headers?: Readonly<Record<string, string>>;
  },
): Promise<HttpAnswer> {
  const t = target(options.https ? 443 : 80);
  // Fetched at call time, not imported: an ESM import of node:http/https builds their export namespace, which
  // loads Node's fetch/WebSocket implementation (undici) and TLS; every command that loads core paid for it.
  const request = options.https
    ? process.getBuiltinModule("node:https").request
    : process.getBuiltinModule("node:http").request;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: t.host,
        port: t.port,
        path: options.path,
        method: "GET",
        headers: { host: options.hostname, accept: "application/json, text/plain, */*", ...options.headers },
        timeout: options.timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.https ? { servername: options.hostname, rejectUnauthorized: false } : {}),
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (body.length < 4096) body += chunk;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            headers: res.headers,
            location: res.headers.location,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () =>
      req.destroy(
        Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { code: "ETIMEDOUT" }),
      ),
    );
    req.on("error", reject);
    req.end();
  });
}

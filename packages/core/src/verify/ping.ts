import { request } from "node:https";
import type { ConnectTarget } from "./types.js";

/** The `/ping` answer. */
export interface PingResult {
  readonly status: number;
  readonly body: string;
  readonly location?: string | undefined;
}

/** GET https://<hostname>/ping through `target(443)`, with SNI and Host set to the hostname. */
export function httpsPing(
  target: ConnectTarget,
  hostname: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<PingResult> {
  const t = target(443);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: t.host,
        port: t.port,
        path: "/ping",
        method: "GET",
        servername: hostname,
        headers: { host: hostname },
        // The certificate is judged by the tls check; here only Rancher's answer matters.
        rejectUnauthorized: false,
        timeout: timeoutMs,
        signal,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (body.length < 4096) body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, location: res.headers.location }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () =>
      req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" })),
    );
    req.on("error", reject);
    req.end();
  });
}

import { httpGet } from "./http.js";
import type { ConnectTarget } from "./types.js";

/** The `/ping` answer. */
export interface PingResult {
  readonly status: number;
  readonly body: string;
  readonly location?: string | undefined;
}

/** GET https://<hostname>/ping through `target(443)`, with SNI and Host set to the hostname. */
export async function httpsPing(
  target: ConnectTarget,
  hostname: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<PingResult> {
  const res = await httpGet(target, { hostname, path: "/ping", https: true, timeoutMs, signal });
  return { status: res.status, body: res.body, location: res.location };
}

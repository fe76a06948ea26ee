import type { ConfigIssue } from "@k3sinfra/core";

/** `options.cloudflare` in a cluster config. */
export interface CloudflareOptions {
  /** API token; prefer the `CLOUDFLARE_API_TOKEN` environment variable over writing it into a config file. */
  readonly apiToken?: string;
  /** Any Cloudflare-compatible API root, e.g. the emulator's `…/client/v4`; env `CLOUDFLARE_BASE_URL` also works. */
  readonly baseUrl?: string;
  /** The zone's id (32 hex characters), to skip the lookup by `dns.zone`. */
  readonly zoneId?: string;
  /** Lets `dns.proxied: true` through, accepting that Cloudflare's certificate then fronts Rancher. */
  readonly allowProxied?: boolean;
}

const KEYS = ["apiToken", "baseUrl", "zoneId", "allowProxied"] as const;

/** Validates `options.cloudflare`; issue paths are relative to that block. */
export function parseCloudflareOptions(
  raw: unknown,
): { ok: true; value: CloudflareOptions } | { ok: false; issues: ConfigIssue[] } {
  if (raw === undefined || raw === null) return { ok: true, value: {} };
  if (typeof raw !== "object" || Array.isArray(raw))
    return {
      ok: false,
      issues: [{ path: "", message: `must be a mapping with any of: ${KEYS.join(", ")}` }],
    };
  const o = raw as Record<string, unknown>;
  const issues: ConfigIssue[] = Object.keys(o)
    .filter((k) => !(KEYS as readonly string[]).includes(k))
    .map((k) => ({ path: k, message: `is not a Cloudflare option (known: ${KEYS.join(", ")})` }));
  if (o.apiToken !== undefined && (typeof o.apiToken !== "string" || o.apiToken.trim() === ""))
    issues.push({
      path: "apiToken",
      message: "must be a non-empty string (better: set CLOUDFLARE_API_TOKEN)",
    });
  if (o.baseUrl !== undefined && (typeof o.baseUrl !== "string" || !/^https?:\/\/[^\s]+$/.test(o.baseUrl)))
    issues.push({
      path: "baseUrl",
      message: "must be an http(s) URL such as https://api.cloudflare.com/client/v4",
    });
  if (o.zoneId !== undefined && (typeof o.zoneId !== "string" || !/^[0-9a-f]{32}$/.test(o.zoneId)))
    issues.push({ path: "zoneId", message: "must be a Cloudflare zone id: 32 lowercase hex characters" });
  if (o.allowProxied !== undefined && typeof o.allowProxied !== "boolean")
    issues.push({ path: "allowProxied", message: "must be true or false" });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: o as CloudflareOptions };
}

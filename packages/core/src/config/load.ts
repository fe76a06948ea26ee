import type { z } from "zod";
import { type ConfigIssue, InvalidConfigError } from "../errors.js";
import { humanError, pathOf, schemaIssues } from "./messages.js";
import { type ClusterConfig, ClusterConfigSchema } from "./schema.js";

export { type ConfigSource, MAX_CONFIG_BYTES, readConfig } from "./read.js";

/**
 * The config paths each check depends on beyond its own path. When one of them is broken (already reported),
 * a later check on this path would judge a stand-in value, so its verdict is dropped: `zones` cannot be
 * checked against a misspelt region, nor a certificate against a mode that did not parse.
 */
const DEPENDS: Readonly<Record<string, readonly string[]>> = {
  region: ["provider"],
  zones: ["region", "provider"],
  name: ["provider"],
  "rancher.hostname": ["dns.zone", "name"],
  "dns.zone": ["rancher.hostname"],
  "dns.proxied": ["loadBalancer.mode", "dns.provider"],
  "loadBalancer.certificate": ["loadBalancer.mode", "region", "rancher.hostname"],
  "loadBalancer.idleTimeoutSeconds": ["loadBalancer.mode"],
  "loadBalancer.mode": ["provider"],
  "k3s.version": ["rancher.version", "datastore.version"],
  "datastore.version": ["datastore.engine", "rancher.version", "k3s.version"],
  "nodes.instanceType": ["nodes.image", "options"],
  "nodes.image": ["nodes.instanceType", "options"],
  "nodes.size": ["nodes.instanceType", "options"],
  "datastore.size": ["datastore.instanceClass", "options"],
  options: ["provider", "dns.provider"],
};

/** `a` is `b`, inside it, or holds it (`zones[1]` and `zones`, `nodes` and `nodes.count`). */
const related = (a: string, b: string): boolean =>
  a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`) || b.startsWith(`${a}.`) || b.startsWith(`${a}[`);

/**
 * Whether an issue found by a later check at `path` is moot because a value it rests on is already reported
 * (`broken`: the paths of earlier issues). Keeps one pass honest: every independent mistake is reported, and
 * none is reported twice or as a consequence of another.
 */
export function isMoot(path: string, broken: readonly string[]): boolean {
  return broken.some((b) => related(path, b) || restsOn(path, b));
}

/** Whether a check at `path` judges its value against the value at `other` (zones against the region). */
export function restsOn(path: string, other: string): boolean {
  return Object.entries(DEPENDS).some(
    ([key, deps]) => related(path, key) && deps.some((d) => related(d, other)),
  );
}

/** A copy of a raw config deep enough to delete keys from; values that are not plain data are kept as is. */
const copy = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(copy)
    : v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]))
      : v;

const parentOf = (root: Record<string, unknown>, path: readonly PropertyKey[]) => {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node !== null && typeof node === "object" ? (node as Record<PropertyKey, unknown>) : undefined;
};

const stringAt = (root: Record<string, unknown>, ...path: string[]): string | undefined => {
  const parent = parentOf(root, path);
  const value = parent?.[path.at(-1) as string];
  return typeof value === "string" ? value.toLowerCase().replace(/\.$/, "") : undefined;
};

/** Stand-ins for required values that are missing or broken, consistent with what is left. */
const placeholders: Readonly<Record<string, (root: Record<string, unknown>) => unknown>> = {
  name: () => "k3sinfra",
  provider: () => "(none)",
  region: (root) => {
    const zones = parentOf(root, ["zones", 0])?.[0];
    return typeof zones === "string" && /\d[a-z]$/.test(zones) ? zones.slice(0, -1) : "(none)";
  },
  dns: () => ({}),
  rancher: () => ({}),
  "dns.zone": (root) => stringAt(root, "rancher", "hostname")?.replace(/^[^.]+\./, "") ?? "example.com",
  "rancher.hostname": (root) => `rancher.${stringAt(root, "dns", "zone") ?? "example.com"}`,
};

/**
 * The config with every value the schema refused removed (so its default applies) and every required value
 * that is missing replaced by a stand-in, so the cross-field and provider checks can run on what did parse.
 */
function repair(
  raw: Record<string, unknown>,
  issues: readonly z.core.$ZodIssue[],
): ClusterConfig | undefined {
  const fixed = copy(raw) as Record<string, unknown>;
  let pending = issues;
  for (let round = 0; round < 4; round++) {
    for (const issue of pending) {
      // A bad list entry takes its whole list: dropping one entry would renumber the others.
      const cut = issue.path.findIndex((p) => typeof p === "number");
      const path = cut >= 0 ? issue.path.slice(0, cut) : issue.path;
      const parent = parentOf(fixed, path);
      if (issue.code === "unrecognized_keys") {
        const target = path.length === 0 ? fixed : parent?.[path.at(-1) as PropertyKey];
        if (target && typeof target === "object")
          for (const k of issue.keys) delete (target as Record<string, unknown>)[k];
        continue;
      }
      if (path.length === 0 || !parent) continue;
      const key = path.at(-1) as PropertyKey;
      const stand = placeholders[pathOf(path)];
      if (stand) parent[key] = stand(fixed);
      else delete parent[key];
    }
    const parsed = ClusterConfigSchema.safeParse(fixed);
    if (parsed.success) return parsed.data;
    pending = parsed.error.issues;
  }
  return undefined;
}

/** Checks that need several fields at once. */
function crossFieldIssues(c: ClusterConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { hostname } = c.rancher;
  if (hostname !== c.dns.zone && !hostname.endsWith(`.${c.dns.zone}`)) {
    issues.push({
      path: "rancher.hostname",
      message: `'${hostname}' is not inside dns.zone '${c.dns.zone}': use a name under that zone or change dns.zone`,
    });
  }
  if (c.zones && new Set(c.zones).size !== c.zones.length) {
    issues.push({ path: "zones", message: "lists a zone twice: give distinct zones" });
  }
  if (c.loadBalancer.mode === "l4" && c.loadBalancer.certificate) {
    issues.push({
      path: "loadBalancer.certificate",
      message: "is only used with mode l7 (TLS at the load balancer); remove it or set loadBalancer.mode: l7",
    });
  }
  if (c.dns.proxied && c.loadBalancer.mode === "l4") {
    // A DNS proxy terminates TLS, so Rancher agents see the proxy's certificate and strict agent TLS fails.
    issues.push({
      path: "dns.proxied",
      message:
        "a proxied record terminates TLS at the DNS provider, which breaks Rancher's strict agent TLS with L4; set it to false",
    });
  }
  return issues;
}

/** What `parseConfig` returns: the config, and every issue found in it. */
export interface ParsedConfig {
  readonly config: ClusterConfig;
  readonly issues: ConfigIssue[];
}

/**
 * Step 2 of 3 (`readConfig` → parse → `resolveConfig`): checks a raw config against the schema and the
 * cross-field rules and returns the issues instead of throwing them, so the provider checks can report
 * theirs in the same error and a user fixes everything in one pass. A schema error does not stop the checks:
 * the refused values are left out (defaults or stand-ins take their place), the later checks run on the
 * rest, and what they say about a refused value is dropped (`isMoot`). The returned config is that repaired
 * one; use it only when `issues` is empty, or to run further checks with `issues` as `earlier`. Throws
 * `InvalidConfigError` only when nothing is left to check (not a mapping, or no repair possible).
 */
export function parseConfig(raw: unknown): ParsedConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InvalidConfigError([
      {
        path: "(root)",
        message: `must be a mapping with at least name, provider, region, dns and rancher, not ${Array.isArray(raw) ? "a list" : raw === null ? "nothing" : `the value ${JSON.stringify(raw)}`}`,
      },
    ]);
  }
  // reportInput lets the messages tell a missing key from a value of the wrong type, and show the value.
  const parsed = ClusterConfigSchema.safeParse(raw, { reportInput: true, error: humanError });
  if (parsed.success) return { config: parsed.data, issues: crossFieldIssues(parsed.data) };
  const issues = schemaIssues(parsed.error, ClusterConfigSchema);
  const config = repair(raw as Record<string, unknown>, parsed.error.issues);
  if (!config) throw new InvalidConfigError(issues);
  const broken = issues.map((i) => i.path);
  return { config, issues: [...issues, ...crossFieldIssues(config).filter((i) => !isMoot(i.path, broken))] };
}

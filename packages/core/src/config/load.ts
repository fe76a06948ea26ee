import { readFile } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { type ConfigIssue, InvalidConfigError } from "../errors.js";
import { type ClusterConfig, type ClusterConfigInput, ClusterConfigSchema } from "./schema.js";

/** A config after loading: the raw object and the directory relative paths resolve from. */
export interface LoadedConfig {
  readonly raw: unknown;
  readonly baseDir: string;
  /** The file it came from, if any; named in errors. */
  readonly file?: string;
}

/** Reads a YAML or JSON file, or takes an object as is. A syntax error names the file, line and column. */
export async function loadConfigFile(
  spec: string | ClusterConfigInput,
  baseDir = process.cwd(),
): Promise<LoadedConfig> {
  if (typeof spec !== "string") return { raw: spec, baseDir };
  const file = resolve(baseDir, spec);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const hint =
      (error as NodeJS.ErrnoException).code === "ENOENT"
        ? "the file does not exist; create one with `k3sinfra init`"
        : String(error);
    throw new InvalidConfigError([{ path: "(file)", message: `cannot read ${file}: ${hint}` }], {
      cause: error,
    });
  }
  try {
    const raw = extname(file) === ".json" ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
    return { raw, baseDir: dirname(file), file };
  } catch (error) {
    throw new InvalidConfigError(
      [
        {
          path: "(file)",
          message: `${file} is not valid ${extname(file) === ".json" ? "JSON" : "YAML"}: ${(error as Error).message}`,
        },
      ],
      { cause: error },
    );
  }
}

const pathOf = (path: readonly PropertyKey[]): string =>
  path
    .map((p) => (typeof p === "number" ? `[${p}]` : String(p)))
    .join(".")
    .replace(/\.\[/g, "[");

/** Turns schema issues into config issues that say what to do. */
function schemaIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => {
    const path = pathOf(issue.path);
    if (issue.code === "unrecognized_keys") {
      return {
        path: path || "(root)",
        message: `unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(", ")}: remove them or check the spelling (\`k3sinfra schema\` lists every key)`,
      };
    }
    if (issue.code === "invalid_type" && issue.input === undefined) {
      return { path, message: issue.message.startsWith("is required") ? issue.message : "is required" };
    }
    if (issue.code === "invalid_type") {
      const got = JSON.stringify(issue.input);
      return {
        path,
        message: `must be ${/^[aeiou]/.test(issue.expected) ? "an" : "a"} ${issue.expected}, not ${got && got.length > 40 ? `${got.slice(0, 40)}…` : got}`,
      };
    }
    return { path, message: issue.message };
  });
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
    // Cloudflare's proxy terminates TLS, so Rancher agents see Cloudflare's certificate and strict agent TLS fails.
    issues.push({
      path: "dns.proxied",
      message:
        "a proxied record terminates TLS at the DNS provider, which breaks Rancher's strict agent TLS with L4; set it to false",
    });
  }
  return issues;
}

/** Validates a raw config against the schema and the cross-field rules; throws `InvalidConfigError` listing every issue. */
export function parseConfig(raw: unknown): ClusterConfig {
  const { config, issues } = checkConfig(raw);
  if (issues.length > 0) throw new InvalidConfigError(issues);
  return config;
}

/**
 * Like `parseConfig`, but returns the cross-field issues instead of throwing them, so the provider checks
 * can report theirs in the same error and a user fixes everything in one pass. Schema errors still throw:
 * nothing else can be checked on a config of the wrong shape.
 */
export function checkConfig(raw: unknown): { config: ClusterConfig; issues: ConfigIssue[] } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InvalidConfigError([
      { path: "(root)", message: "must be a mapping with at least name, provider, region, dns and rancher" },
    ]);
  }
  // reportInput lets the messages tell a missing key from a value of the wrong type.
  const parsed = ClusterConfigSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new InvalidConfigError(schemaIssues(parsed.error));
  return { config: parsed.data, issues: crossFieldIssues(parsed.data) };
}

import { readFile } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { type ConfigIssue, InvalidConfigError } from "../errors.js";
import {
  type ClusterConfig,
  type ClusterConfigInput,
  ClusterConfigSchema,
  RANCHER_K8S_RANGES,
} from "./schema.js";

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
    return { path, message: issue.message };
  });
}

const minor = (v: string): [number, number] => {
  const m = /^v?(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
};
const cmpMinor = (a: [number, number], b: [number, number]) => a[0] - b[0] || a[1] - b[1];
const patchOf = (v: string): number => Number(/^v?\d+\.\d+\.(\d+)/.exec(v)?.[1] ?? 0);

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
  const rancherMinor = c.rancher.version.split(".").slice(0, 2).join(".");
  const range = RANCHER_K8S_RANGES[rancherMinor];
  if (!range) {
    issues.push({
      path: "rancher.version",
      message: `Rancher ${rancherMinor} is not one k3sinfra knows (${Object.keys(RANCHER_K8S_RANGES).join(", ")}): pick one of those`,
    });
  } else if (c.k3s.version) {
    const v = minor(c.k3s.version);
    if (cmpMinor(v, minor(range.min)) < 0 || cmpMinor(v, minor(range.max)) > 0) {
      issues.push({
        path: "k3s.version",
        message: `${c.k3s.version} is outside Rancher ${rancherMinor}'s Kubernetes range ${range.min}–${range.max}: pick a K3s release in that range or remove k3s.version to use the default`,
      });
    }
  }
  if (c.k3s.version && c.datastore.version === "8.4") {
    // K3s QA validated MySQL 8.4 from v1.33.12+k3s1 on (k3s-io/k3s#14100).
    const v = minor(c.k3s.version);
    if (cmpMinor(v, [1, 33]) < 0 || (cmpMinor(v, [1, 33]) === 0 && patchOf(c.k3s.version) < 12)) {
      issues.push({
        path: "k3s.version",
        message:
          'MySQL 8.4 needs K3s v1.33.12+k3s1 or later: raise k3s.version or set datastore.version: "8.0"',
      });
    }
  }
  return issues;
}

/** Validates a raw config against the schema and the cross-field rules; throws `InvalidConfigError` listing every issue. */
export function parseConfig(raw: unknown): ClusterConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InvalidConfigError([
      { path: "(root)", message: "must be a mapping with at least name, provider, region, dns and rancher" },
    ]);
  }
  const parsed = ClusterConfigSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidConfigError(schemaIssues(parsed.error));
  const issues = crossFieldIssues(parsed.data);
  if (issues.length > 0) throw new InvalidConfigError(issues);
  return parsed.data;
}

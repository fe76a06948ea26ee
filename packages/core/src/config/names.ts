import type { NameRule, ServiceKind } from "../capabilities.js";
import type { ConfigIssue } from "../errors.js";
import { physicalName } from "../naming.js";
import type { ClusterConfig } from "./schema.js";

/**
 * Node names grow a `-g<generation>` suffix with each rolling replacement; checking a three-digit generation
 * leaves room for 999 replacements of one node before a cloud's length limit could bite.
 */
const WORST_GENERATION = 999;

/** Every value a rule's template yields for this config (several for `{node}`). */
function expand(template: string, config: ClusterConfig): string[] {
  let values = [template];
  const sub = (token: string, replacements: readonly string[]) => {
    if (!template.includes(token)) return;
    values = values.flatMap((v) => replacements.map((r) => v.split(token).join(r)));
  };
  sub("{cluster}", [config.name]);
  sub("{hostname}", [config.rancher.hostname]);
  const last = `node-${config.nodes.count - 1}`;
  sub("{node}", [physicalName(config.name, last), physicalName(config.name, last, WORST_GENERATION)]);
  for (const m of template.matchAll(/\{([a-z-]+)\}/g)) {
    const resource = m[1] as string;
    if (resource !== "cluster" && resource !== "hostname" && resource !== "node")
      sub(`{${resource}}`, [physicalName(config.name, resource)]);
  }
  return values;
}

/** What is wrong with one value under one rule, in words; undefined when it is fine. */
function broken(value: string, rule: NameRule): string | undefined {
  if (value.length > rule.maxLength)
    return `is ${value.length} characters long, over the limit of ${rule.maxLength}`;
  if (rule.pattern && !rule.pattern.test(value))
    return `may contain only ${rule.patternHint ?? `characters matching ${rule.pattern}`}`;
  if (rule.startsWithLetter && !/^[A-Za-z]/.test(value)) return "must start with a letter";
  if (rule.noDoubleHyphen && value.includes("--")) return "may not contain two hyphens in a row";
  if (rule.noLeadingHyphen && value.startsWith("-")) return "may not start with a hyphen";
  if (rule.noTrailingHyphen && value.endsWith("-")) return "may not end with a hyphen";
  return undefined;
}

/**
 * Checks the names and values a provider derives from the config against the rules it declares
 * (`capabilities.names`), so a name the cloud would refuse is a config error before any call. The issue is
 * filed under the config value that makes the name: `rancher.hostname` when the template uses it, else `name`.
 */
export function derivedNameIssues(
  config: ClusterConfig,
  provider: string,
  rules: readonly NameRule[],
  roles: readonly ServiceKind[],
): ConfigIssue[] {
  // Each issue with, for a length problem, the longest value of its path that would pass.
  const found: (ConfigIssue & { allowed?: number })[] = [];
  for (const rule of rules) {
    if (rule.role && !roles.includes(rule.role)) continue;
    for (const value of expand(rule.template, config)) {
      const problem = broken(value, rule);
      if (!problem) continue;
      const byHostname = rule.template.includes("{hostname}");
      const own = byHostname ? config.rancher.hostname : config.name;
      const tooLong = value.length > rule.maxLength;
      const allowed = tooLong ? own.length - (value.length - rule.maxLength) : undefined;
      const shown = value.length > 80 ? `${value.slice(0, 60)}… (${value.length} characters)` : value;
      const fix =
        allowed !== undefined
          ? `use a ${byHostname ? "hostname" : "name"} of at most ${Math.max(allowed, 0)} characters`
          : rule.noDoubleHyphen && value.includes("--")
            ? "choose a name without '--'"
            : `choose another ${byHostname ? "hostname" : "name"}`;
      found.push({
        path: byHostname ? "rancher.hostname" : "name",
        message: `makes the ${provider} ${rule.object} '${shown}', which ${problem}: ${fix}${rule.docs ? ` (${rule.docs})` : ""}`,
        ...(allowed !== undefined ? { allowed } : {}),
      });
      break; // one message per rule: the node names differ only in their suffix
    }
  }
  // Several length limits on one path (a comment and a record name built from the hostname): the tightest
  // says it all. Other messages are kept once each (the two target groups say the same thing).
  const tightest = new Map<string, number>();
  for (const f of found)
    if (f.allowed !== undefined) tightest.set(f.path, Math.min(tightest.get(f.path) ?? f.allowed, f.allowed));
  const issues: ConfigIssue[] = [];
  for (const { allowed, ...issue } of found) {
    if (allowed !== undefined && allowed !== tightest.get(issue.path)) continue;
    if (issues.some((i) => i.path === issue.path && i.message === issue.message)) continue;
    if (allowed !== undefined && issues.some((i) => i.path === issue.path && /at most/.test(i.message)))
      continue;
    issues.push(issue);
  }
  return issues;
}

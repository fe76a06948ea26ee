import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Core names no cloud: providers supply what is cloud-specific (metadata readers, CA bundle URLs, the rules
// they cite) and the CLI holds the table of built-in providers. Source, comments, JSDoc and messages alike.
const SRC = fileURLToPath(new URL("../src", import.meta.url));

/** Vendors, their product and service names, and their ids; whole words (or camelCase parts), any case. */
const CLOUD_WORDS = [
  // Amazon Web Services
  "aws",
  "amazon",
  "amazonaws",
  "ec2",
  "rds",
  "aurora",
  "route ?53",
  "elb",
  "elbv2",
  "alb",
  "nlb",
  "acm",
  "arn",
  "ssm",
  "imds",
  "imdsv2",
  "s3",
  "cloudwatch",
  "govcloud",
  // Google Cloud
  "gcp",
  "gce",
  "gcloud",
  "google",
  "googleapis",
  "cloud ?dns",
  // Microsoft Azure
  "azure",
  "azuredns",
  "microsoft",
  "vnet",
  "key vault",
  // Cloudflare
  "cloudflare",
  "cf-ray",
];
/** `aws` → `[aA][wW][sS]`: any case, while the boundaries below stay case-sensitive. */
const anyCase = (word: string): string => word.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`);
/**
 * A word starts after a non-alphanumeric or at a camelCase hump (`myAws`), and ends before anything but a
 * lowercase letter or digit (so `awsRdsCaUrl`, `AWS_READER`, `provider-aws` and `ARNs` count; `elbow` does not).
 */
const PATTERN = new RegExp(
  `(?:(?<![A-Za-z0-9])|(?<=[a-z0-9])(?=[A-Z]))(?:${CLOUD_WORDS.map(anyCase).join("|")})s?(?![a-z0-9])`,
);

/** What may still name a cloud, by folder and word: nothing. (A new entry needs a reason written here.) */
const ALLOWED: readonly { readonly under: string; readonly words: RegExp }[] = [];

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );

/** Every `file:line: text` naming a cloud, with the allowlist entries it used. */
function scan(): { hits: string[]; used: Set<number> } {
  const hits: string[] = [];
  const used = new Set<number>();
  for (const path of sources(SRC)) {
    const file = relative(SRC, path).split("\\").join("/");
    readFileSync(path, "utf8")
      .split("\n")
      .forEach((line, i) => {
        for (const [word] of line.matchAll(new RegExp(PATTERN.source, "g"))) {
          const allowed = ALLOWED.findIndex((a) => file.startsWith(a.under) && a.words.test(word));
          if (allowed >= 0) used.add(allowed);
          else hits.push(`packages/core/src/${file}:${i + 1}: '${word}' in ${line.trim()}`);
        }
      });
  }
  return { hits, used };
}

describe("core names no cloud", () => {
  it("no file under packages/core/src names a cloud, its services or its ids", () => {
    expect(scan().hits).toEqual([]);
  });

  it("every allowlist entry still matches something (the list only shrinks)", () => {
    const { used } = scan();
    expect(ALLOWED.filter((_, i) => !used.has(i)).map((a) => a.under)).toEqual([]);
  });

  it("catches a cloud named in a comment, a message or an identifier (the check can fail)", () => {
    for (const line of [
      "// IMDSv2 instance tags",
      'throw new Error("install @k3sinfra/provider-aws")',
      "const GCP_READER = 1;",
      "/** e.g. Route 53 alias */",
      "see https://docs.aws.amazon.com/x",
      "export { awsRdsCaUrl };",
      "a list of ARNs",
    ])
      expect(PATTERN.test(line), line).toBe(true);
    for (const line of ["const always = 1;", "// rdsx, awsome, elbow, arnold", "labelbox"])
      expect(PATTERN.test(line), line).toBe(false);
  });
});

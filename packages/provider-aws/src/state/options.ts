import type { ConfigIssue } from "@k3sinfra/core";

/** The `state:` block of `backend: s3` (besides `backend`, `path` and `provider`, which core reads). */
export interface S3StateOptions {
  /** The bucket holding the state. */
  readonly bucket: string;
  /** The state object's key; default `k3sinfra/<cluster>.state.json`. The lock is `<key>.lock`. */
  readonly key?: string | undefined;
  /** The bucket's region (and the KMS key's). */
  readonly region: string;
  /** An S3-compatible endpoint (or the emulator); default `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, else AWS. */
  readonly endpoint?: string | undefined;
  /** Path-style URLs (`<endpoint>/<bucket>/<key>`); default on with an endpoint, off for AWS. */
  readonly forcePathStyle?: boolean | undefined;
  /** KMS key (id, ARN or alias) that wraps the secrets' data key; S3 also encrypts the object with it (SSE-KMS). */
  readonly kmsKeyId?: string | undefined;
}

const STRINGS = ["bucket", "key", "region", "endpoint", "kmsKeyId"] as const;

/** Validates the block; issues name members relative to `state.`. */
export function parseS3StateOptions(
  raw: Readonly<Record<string, unknown>>,
): { ok: true; value: S3StateOptions } | { ok: false; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  for (const key of Object.keys(raw)) {
    if (!(STRINGS as readonly string[]).includes(key) && key !== "forcePathStyle")
      issues.push({
        path: key,
        message: `is not an option of the s3 state backend (it takes ${[...STRINGS, "forcePathStyle"].join(", ")})`,
      });
  }
  for (const key of STRINGS) {
    const value = raw[key];
    if (value !== undefined && (typeof value !== "string" || value === ""))
      issues.push({ path: key, message: "must be a non-empty string" });
  }
  if (raw.forcePathStyle !== undefined && typeof raw.forcePathStyle !== "boolean")
    issues.push({ path: "forcePathStyle", message: "must be true or false" });
  const bucket = raw.bucket;
  if (bucket === undefined)
    issues.push({ path: "bucket", message: "is required: the S3 bucket that holds the state" });
  // Bucket naming rules (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
  else if (typeof bucket === "string" && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    issues.push({
      path: "bucket",
      message: "must be an S3 bucket name: 3–63 lowercase letters, digits, dots and hyphens",
    });
  if (raw.region === undefined)
    issues.push({ path: "region", message: "is required: the bucket's region, e.g. us-east-1" });
  const key = raw.key;
  if (typeof key === "string" && (key.startsWith("/") || key.endsWith("/")))
    issues.push({
      path: "key",
      message: "must be an object key such as k3sinfra/prod.state.json (no leading or trailing /)",
    });
  const endpoint = raw.endpoint;
  if (typeof endpoint === "string" && !/^https?:\/\/[^\s/]+(\/.*)?$/.test(endpoint))
    issues.push({ path: "endpoint", message: "must be an http(s) URL such as https://s3.example.com" });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: raw as unknown as S3StateOptions };
}

/**
 * S3's state: buckets (global names, each in one region) holding objects, each object a list of versions,
 * newest last. Bodies are kept as text (the emulator's requests are text): enough for state files and the
 * like, not for binary uploads.
 */
import { createHash } from "node:crypto";
import { AwsError } from "../kernel/errors.js";

export interface ObjectVersion {
  /** `null` while the bucket was never versioned (S3's own word for it). */
  versionId: string;
  etag: string;
  body: string;
  size: number;
  lastModified: number;
  contentType: string;
  /** `AES256` or `aws:kms`: what the object is encrypted with at rest. */
  sse: string;
  kmsKeyId?: string;
  deleteMarker?: boolean;
}

export interface Bucket {
  name: string;
  region: string;
  createdAt: number;
  /** Unset until PutBucketVersioning first sets it, then `Enabled` or `Suspended`. */
  versioning?: "Enabled" | "Suspended";
  /** key → versions, oldest first; the last one is current (a delete marker hides the object). */
  objects: Record<string, ObjectVersion[]>;
}

export interface S3State {
  buckets: Record<string, Bucket>;
}

/** S3's error shape: the code, HTTP status, message, and what it is about. */
export const s3Err = (code: string, status: number, message: string, extra: Record<string, string> = {}) =>
  Object.assign(new AwsError(code, message, status), { extra });

/** The quoted MD5 of a single-part upload's bytes (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html). */
export const etagOf = (body: Buffer): string => `"${createHash("md5").update(body).digest("hex")}"`;

// Bucket naming rules (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html):
// 3–63 characters, lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit,
// not shaped like an IP address.
export function checkBucketName(name: string): void {
  if (
    !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) ||
    /^\d+\.\d+\.\d+\.\d+$/.test(name) ||
    name.includes("..")
  ) {
    throw s3Err("InvalidBucketName", 400, "The specified bucket is not valid.", { BucketName: name });
  }
}

/** The current version of `key`, unless it is missing or a delete marker. */
export function current(bucket: Bucket, key: string): ObjectVersion | undefined {
  const versions = bucket.objects[key];
  const last = versions?.[versions.length - 1];
  return last && !last.deleteMarker ? last : undefined;
}

/** An ETag from a header as clients send it (quoted or not); `*` stays `*`. */
export const normalizeEtag = (value: string): string => {
  const v = value.trim();
  return v === "*" || v.startsWith('"') ? v : `"${v}"`;
};

import type { S3 } from "@aws-sdk/client-s3";
import { type LockBackend, LockHeldError, type LockInfo } from "@k3sinfra/core";
import { awsCodes, mapAwsError } from "../errors.js";

/** S3's answers to a failed condition: 412 when it did not hold, 409 when a concurrent write won, 404 when gone. */
export const lostCondition = (error: unknown): boolean =>
  awsCodes(error).some((c) =>
    ["PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "NotFound"].includes(c),
  );

/**
 * The lock as an S3 object beside the state (`<key>.lock`), the way Terraform's S3 backend locks with
 * `use_lockfile` (https://developer.hashicorp.com/terraform/language/backend/s3#state-locking): created with
 * `If-None-Match: *` so only one run gets it, renewed and removed with `If-Match` on the ETag its holder
 * last wrote, so a run that lost it can neither extend nor delete the new holder's lock
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html).
 */
export class S3LockBackend implements LockBackend {
  readonly #s3: () => Promise<S3>;
  readonly #bucket: string;
  readonly #key: string;
  readonly #sse: { ServerSideEncryption: "AES256" | "aws:kms"; SSEKMSKeyId?: string };
  /** The ETag of each lock this process wrote or read last, by lock id. */
  readonly #etags = new Map<string, string>();

  constructor(
    s3: () => Promise<S3>,
    bucket: string,
    key: string,
    sse: { ServerSideEncryption: "AES256" | "aws:kms"; SSEKMSKeyId?: string },
  ) {
    this.#s3 = s3;
    this.#bucket = bucket;
    this.#key = key;
    this.#sse = sse;
  }

  get location(): string {
    return `s3://${this.#bucket}/${this.#key}`;
  }

  async #put(info: LockInfo, condition: { IfNoneMatch: "*" } | { IfMatch: string }): Promise<boolean> {
    const s3 = await this.#s3();
    try {
      const out = await s3.putObject({
        Bucket: this.#bucket,
        Key: this.#key,
        Body: `${JSON.stringify(info, null, 2)}\n`,
        ContentType: "application/json",
        ...this.#sse,
        ...condition,
      });
      if (out.ETag) this.#etags.set(info.id, out.ETag);
      return true;
    } catch (error) {
      if (!lostCondition(error)) throw mapAwsError(error, `S3 PutObject ${this.location}`);
      // A retried PUT whose first attempt landed fails its own condition: the stored lock is then this one.
      const now = await this.read().catch(() => undefined);
      return now?.id === info.id && now.expiresAt === info.expiresAt;
    }
  }

  create(info: LockInfo): Promise<boolean> {
    return this.#put(info, { IfNoneMatch: "*" });
  }

  async read(): Promise<LockInfo | undefined> {
    const s3 = await this.#s3();
    let text: string;
    let etag: string | undefined;
    try {
      const out = await s3.getObject({ Bucket: this.#bucket, Key: this.#key });
      text = (await out.Body?.transformToString("utf8")) ?? "";
      etag = out.ETag;
    } catch (error) {
      if (awsCodes(error).some((c) => c === "NoSuchKey" || c === "NotFound")) return undefined;
      throw mapAwsError(error, `S3 GetObject ${this.location}`);
    }
    const info = parse(text, this.location);
    if (etag) this.#etags.set(info.id, etag);
    return info;
  }

  async renew(info: LockInfo): Promise<boolean> {
    const etag = this.#etags.get(info.id);
    if (etag === undefined) return false;
    return this.#put(info, { IfMatch: etag });
  }

  async removeIf(id: string): Promise<boolean> {
    let etag = this.#etags.get(id);
    if (etag === undefined) {
      if ((await this.read())?.id !== id) return false;
      etag = this.#etags.get(id);
    }
    const s3 = await this.#s3();
    try {
      await s3.deleteObject({ Bucket: this.#bucket, Key: this.#key, IfMatch: etag });
      return true;
    } catch (error) {
      if (lostCondition(error)) return false;
      throw mapAwsError(error, `S3 DeleteObject ${this.location}`);
    } finally {
      this.#etags.delete(id);
    }
  }
}

/** The lock object's fields; an unreadable one is reported with how to clear it. */
function parse(text: string, where: string): LockInfo {
  let raw: Partial<Record<keyof LockInfo, unknown>> | undefined;
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch {
    raw = undefined;
  }
  const fields = ["id", "owner", "operation", "acquiredAt", "expiresAt"] as const;
  if (raw === undefined || raw === null || !fields.every((f) => typeof raw[f] === "string")) {
    throw new LockHeldError(
      `The lock object ${where} is unreadable. If no k3sinfra command is running for this cluster, delete that object.`,
    );
  }
  const { host, pid, processStart, ...info } = raw as LockInfo;
  return {
    ...info,
    ...(typeof host === "string" && Number.isInteger(pid) ? { host, pid } : {}),
    ...(typeof processStart === "string" ? { processStart } : {}),
  };
}

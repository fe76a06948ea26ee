import { createHash } from "node:crypto";
import type { ListObjectsV2CommandOutput, S3 } from "@aws-sdk/client-s3";
import {
  AuthFailedError,
  InvalidConfigError,
  type StateBackend,
  type StateBackendContext,
  type StoredObject,
} from "@k3sinfra/core";
import { type AwsClientSettings, clientSettings } from "../clients.js";
import { awsCodes, mapAwsError } from "../errors.js";
import { KmsKeyWrapper } from "./kms-wrapper.js";
import type { S3StateOptions } from "./options.js";
import { lostCondition, S3LockBackend } from "./s3-lock.js";

/** The state object's suffix; `list` names the clusters whose keys end with it. */
export const STATE_SUFFIX = ".state.json";

/** The default state key of a cluster: `k3sinfra/<cluster>.state.json`. */
export const defaultStateKey = (cluster: string): string => `k3sinfra/${cluster}${STATE_SUFFIX}`;

/**
 * Cluster state in an S3 object. Every write is conditional — `If-Match` on the ETag read, or
 * `If-None-Match: *` for a new state (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html) —
 * so a run that lost its lock can never overwrite a newer state; a PUT replaces the object whole, so a crash
 * mid-write leaves the previous state. Objects are encrypted at rest (SSE-S3, or SSE-KMS with `kmsKeyId`),
 * and versioning is checked by `preflight` (Terraform recommends it for the same reason:
 * https://developer.hashicorp.com/terraform/language/backend/s3).
 */
export class S3StateBackend implements StateBackend {
  readonly remote = true;
  readonly location: string;
  readonly lock: S3LockBackend;
  readonly keyWrapper: KmsKeyWrapper | undefined;
  readonly keyHint = "set state.kmsKeyId to a KMS key everyone who runs k3sinfra may use";
  readonly bucket: string;
  readonly key: string;
  readonly #settings: AwsClientSettings;
  readonly #pathStyle: boolean;
  readonly #sse: { ServerSideEncryption: "AES256" | "aws:kms"; SSEKMSKeyId?: string };
  #client: Promise<S3> | undefined;

  constructor(options: S3StateOptions, ctx: StateBackendContext) {
    this.bucket = options.bucket;
    this.key = options.key ?? defaultStateKey(ctx.cluster);
    this.location = `s3://${this.bucket}/${this.key}`;
    const endpoint = options.endpoint ?? (ctx.env.AWS_ENDPOINT_URL_S3 || undefined);
    this.#settings = clientSettings(options.region, endpoint, ctx.env);
    // Custom endpoints (S3-compatible stores, the emulator) rarely have per-bucket DNS names.
    this.#pathStyle = options.forcePathStyle ?? this.#settings.endpoint !== undefined;
    this.#sse = options.kmsKeyId
      ? { ServerSideEncryption: "aws:kms", SSEKMSKeyId: options.kmsKeyId }
      : { ServerSideEncryption: "AES256" };
    this.keyWrapper = options.kmsKeyId ? new KmsKeyWrapper(options.kmsKeyId, this.#settings) : undefined;
    this.lock = new S3LockBackend(() => this.#s3(), this.bucket, `${this.key}.lock`, this.#sse);
  }

  #s3(): Promise<S3> {
    const s = this.#settings;
    this.#client ??= import("@aws-sdk/client-s3").then(
      (m) =>
        new m.S3({
          region: s.region,
          forcePathStyle: this.#pathStyle,
          ...(s.endpoint ? { endpoint: s.endpoint } : {}),
          ...(s.credentials ? { credentials: s.credentials } : {}),
          ...(s.profile && !s.credentials ? { profile: s.profile } : {}),
        }),
    );
    return this.#client;
  }

  async read(): Promise<StoredObject | undefined> {
    const s3 = await this.#s3();
    try {
      const out = await s3.getObject({ Bucket: this.bucket, Key: this.key });
      const bytes = (await out.Body?.transformToByteArray()) ?? new Uint8Array();
      return { bytes, version: out.ETag ?? etagOf(bytes) };
    } catch (error) {
      if (awsCodes(error).some((c) => c === "NoSuchKey" || c === "NotFound")) return undefined;
      throw this.#error(error, "GetObject");
    }
  }

  async write(bytes: Uint8Array, expected: string | undefined): Promise<string | undefined> {
    const s3 = await this.#s3();
    try {
      const out = await s3.putObject({
        Bucket: this.bucket,
        Key: this.key,
        Body: bytes,
        ContentType: "application/json",
        ...this.#sse,
        ...(expected === undefined ? { IfNoneMatch: "*" } : { IfMatch: expected }),
      });
      return out.ETag ?? etagOf(bytes);
    } catch (error) {
      if (!lostCondition(error)) throw this.#error(error, "PutObject");
      // A retried PUT whose first attempt landed fails its own condition: the stored bytes are then ours.
      const now = await this.read();
      return now !== undefined && Buffer.from(now.bytes).equals(Buffer.from(bytes)) ? now.version : undefined;
    }
  }

  async delete(): Promise<void> {
    const s3 = await this.#s3();
    for (const Key of [this.key, `${this.key}.lock`]) {
      try {
        await s3.deleteObject({ Bucket: this.bucket, Key });
      } catch (error) {
        if (!awsCodes(error).includes("NoSuchKey")) throw this.#error(error, "DeleteObject");
      }
    }
  }

  /** Clusters whose state is beside this one: keys under the same prefix ending in `.state.json`. */
  async list(): Promise<string[]> {
    const s3 = await this.#s3();
    const prefix = this.key.includes("/") ? this.key.slice(0, this.key.lastIndexOf("/") + 1) : "";
    const names: string[] = [];
    let token: string | undefined;
    do {
      let out: ListObjectsV2CommandOutput;
      try {
        out = await s3.listObjectsV2({
          Bucket: this.bucket,
          Prefix: prefix,
          Delimiter: "/",
          ContinuationToken: token,
        });
      } catch (error) {
        throw this.#error(error, "ListObjectsV2");
      }
      for (const o of out.Contents ?? [])
        if (o.Key?.endsWith(STATE_SUFFIX)) names.push(o.Key.slice(prefix.length, -STATE_SUFFIX.length));
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return names.sort();
  }

  /** The bucket exists and can be read; a warning when versioning is off. */
  async preflight(): Promise<string[]> {
    const s3 = await this.#s3();
    try {
      await s3.headBucket({ Bucket: this.bucket });
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || awsCodes(error).some((c) => c === "NotFound" || c === "NoSuchBucket"))
        throw new InvalidConfigError([
          {
            path: "state.bucket",
            message: `bucket ${this.bucket} does not exist (in ${this.#settings.region}); create it with versioning on, or name another`,
          },
        ]);
      if (status === 403)
        throw new AuthFailedError(
          `These credentials may not use bucket ${this.bucket} (s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject are needed).`,
          { cause: error },
        );
      throw this.#error(error, "HeadBucket");
    }
    let status: string | undefined;
    try {
      status = (await s3.getBucketVersioning({ Bucket: this.bucket })).Status;
    } catch (error) {
      // Reading the setting needs s3:GetBucketVersioning, which a narrow CI role may lack: say so, carry on.
      return [
        `Could not check versioning on bucket ${this.bucket} (${awsCodes(error)[0] ?? "error"}); turn it on so that earlier states can be recovered.`,
      ];
    }
    return status === "Enabled"
      ? []
      : [
          `Versioning is off on bucket ${this.bucket}: an overwritten or deleted state cannot be recovered. Turn it on: aws s3api put-bucket-versioning --bucket ${this.bucket} --versioning-configuration Status=Enabled`,
        ];
  }

  #error(error: unknown, operation: string): Error {
    return mapAwsError(error, `S3 ${operation} ${this.location}`);
  }
}

const etagOf = (bytes: Uint8Array): string => `"${createHash("md5").update(bytes).digest("hex")}"`;

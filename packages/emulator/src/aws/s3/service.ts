/**
 * S3 buckets and objects: create/head buckets, versioning, put/get/head/delete objects with the conditional
 * headers, and listings. Conditional writes follow S3's rules
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html): `If-None-Match: *`
 * creates only, `If-Match: <etag>` replaces only that version, a failed condition is 412 PreconditionFailed,
 * and a conditional write that loses to another write completing during its upload is 409
 * ConditionalRequestConflict.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { InventoryItem } from "../../types.js";
import { DEFAULT_REGION } from "../kernel/common.js";
import type { ServiceKernel } from "../kernel/lookups.js";
import {
  type Bucket,
  checkBucketName,
  current,
  etagOf,
  normalizeEtag,
  type ObjectVersion,
  type S3State,
  s3Err,
} from "./model.js";

/** One S3 request as the operations see it. */
export interface S3Input {
  bucket: string;
  key: string;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  body: Buffer;
  region: string;
  now: number;
}

/** What an operation answers: status, headers, and an XML document or raw body. */
export interface S3Output {
  status?: number;
  headers?: Record<string, string>;
  xml?: string;
  body?: string;
}

const header = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

const XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";
const doc = (root: string, inner: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${XMLNS}">${inner}</${root}>`;
const el = (name: string, value: string | number | boolean) =>
  `<${name}>${String(value).replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"))}</${name}>`;

export class S3Service {
  /** Writes to a key whose upload is under way: a conditional write is refused if another one lands first. */
  readonly #uploads = new Map<string, number>();
  #seq = 0;

  constructor(readonly kernel: ServiceKernel<S3State>) {}

  get state(): S3State {
    return this.kernel.state();
  }

  bucket(name: string): Bucket {
    const b = this.state.buckets[name];
    if (!b) throw s3Err("NoSuchBucket", 404, "The specified bucket does not exist", { BucketName: name });
    return b;
  }

  CreateBucket(i: S3Input): S3Output {
    checkBucketName(i.bucket);
    const existing = this.state.buckets[i.bucket];
    // In us-east-1 re-creating one's own bucket succeeds; elsewhere it is BucketAlreadyOwnedByYou
    // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html).
    if (existing && existing.region !== DEFAULT_REGION)
      throw s3Err(
        "BucketAlreadyOwnedByYou",
        409,
        "Your previous request to create the named bucket succeeded and you already own it.",
        { BucketName: i.bucket },
      );
    if (!existing) {
      const located = /<LocationConstraint>([^<]*)<\/LocationConstraint>/.exec(i.body.toString("utf8"))?.[1];
      this.state.buckets[i.bucket] = {
        name: i.bucket,
        region: located || i.region,
        createdAt: i.now,
        objects: {},
      };
    }
    return { headers: { location: `/${i.bucket}` } };
  }

  HeadBucket(i: S3Input): S3Output {
    return { headers: { "x-amz-bucket-region": this.bucket(i.bucket).region } };
  }

  GetBucketLocation(i: S3Input): S3Output {
    const region = this.bucket(i.bucket).region;
    return { xml: doc("LocationConstraint", region === DEFAULT_REGION ? "" : region) };
  }

  DeleteBucket(i: S3Input): S3Output {
    const b = this.bucket(i.bucket);
    if (Object.values(b.objects).some((v) => v.length > 0))
      throw s3Err("BucketNotEmpty", 409, "The bucket you tried to delete is not empty", {
        BucketName: i.bucket,
      });
    delete this.state.buckets[i.bucket];
    return { status: 204 };
  }

  GetBucketVersioning(i: S3Input): S3Output {
    const status = this.bucket(i.bucket).versioning;
    return { xml: doc("VersioningConfiguration", status ? el("Status", status) : "") };
  }

  PutBucketVersioning(i: S3Input): S3Output {
    const b = this.bucket(i.bucket);
    const status = /<Status>([^<]*)<\/Status>/.exec(i.body.toString("utf8"))?.[1];
    if (status !== "Enabled" && status !== "Suspended")
      throw s3Err(
        "MalformedXML",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
      );
    b.versioning = status;
    return {};
  }

  /** Checks `If-Match` / `If-None-Match` against the current version (412 when they fail). */
  #precondition(b: Bucket, i: S3Input, write: boolean): ObjectVersion | undefined {
    const now = current(b, i.key);
    const ifMatch = header(i.headers, "if-match");
    const ifNoneMatch = header(i.headers, "if-none-match");
    const failed = () =>
      s3Err("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold", {
        Condition: ifMatch !== undefined ? "If-Match" : "If-None-Match",
      });
    if (ifMatch !== undefined) {
      // A conditional write or delete on a missing key is 404 NoSuchKey (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html).
      if (!now) throw s3Err("NoSuchKey", 404, "The specified key does not exist.", { Key: i.key });
      if (normalizeEtag(ifMatch) !== "*" && normalizeEtag(ifMatch) !== now.etag) throw failed();
    }
    if (ifNoneMatch !== undefined && now) {
      if (write) {
        if (ifNoneMatch.trim() !== "*")
          throw s3Err(
            "NotImplemented",
            501,
            "A header you provided implies functionality that is not implemented",
            { Header: "If-None-Match" },
          );
        throw failed();
      }
      if (normalizeEtag(ifNoneMatch) === now.etag || ifNoneMatch.trim() === "*")
        throw Object.assign(failed(), { status: 304 });
    }
    return now;
  }

  /** The new version's id: `null` in a never-versioned or suspended bucket. */
  #versionId(b: Bucket): string {
    return b.versioning === "Enabled"
      ? `${Date.now().toString(36)}${(++this.#seq).toString(36).padStart(6, "0")}${this.kernel.ctx.rng.hex(16)}`
      : "null";
  }

  #store(b: Bucket, key: string, version: ObjectVersion): void {
    const versions = b.objects[key] ?? [];
    // Unversioned writes replace the `null` version; versioned ones add a version.
    const kept = version.versionId === "null" ? versions.filter((v) => v.versionId !== "null") : versions;
    b.objects[key] = [...kept, version];
    this.#uploads.set(`${b.name}/${key}`, (this.#uploads.get(`${b.name}/${key}`) ?? 0) + 1);
  }

  async PutObject(i: S3Input): Promise<S3Output> {
    const b = this.bucket(i.bucket);
    this.#precondition(b, i, true);
    const conditional =
      header(i.headers, "if-match") !== undefined || header(i.headers, "if-none-match") !== undefined;
    const slot = `${b.name}/${i.key}`;
    const seen = this.#uploads.get(slot) ?? 0;
    // The upload phase: other requests run meanwhile, as they do while a real upload streams in.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (conditional && (this.#uploads.get(slot) ?? 0) !== seen)
      throw s3Err(
        "ConditionalRequestConflict",
        409,
        "A conflicting conditional operation is currently in progress against this resource. Please try again.",
        { Key: i.key },
      );
    const sseHeader = header(i.headers, "x-amz-server-side-encryption");
    if (
      sseHeader !== undefined &&
      sseHeader !== "AES256" &&
      sseHeader !== "aws:kms" &&
      sseHeader !== "aws:kms:dsse"
    )
      throw s3Err("InvalidArgument", 400, "The encryption method specified is not supported", {
        ArgumentName: "x-amz-server-side-encryption",
      });
    // Every new object is encrypted at rest, SSE-S3 by default (https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html).
    const sse = sseHeader ?? "AES256";
    const kmsKeyId = header(i.headers, "x-amz-server-side-encryption-aws-kms-key-id");
    const version: ObjectVersion = {
      versionId: this.#versionId(b),
      etag: etagOf(i.body),
      body: i.body.toString("utf8"),
      size: i.body.length,
      lastModified: i.now,
      contentType: header(i.headers, "content-type") ?? "binary/octet-stream",
      sse,
      ...(kmsKeyId ? { kmsKeyId } : {}),
    };
    this.#store(b, i.key, version);
    return { headers: { etag: version.etag, ...this.#objectHeaders(b, version, false) } };
  }

  #objectHeaders(b: Bucket, v: ObjectVersion, full: boolean): Record<string, string> {
    return {
      ...(b.versioning ? { "x-amz-version-id": v.versionId } : {}),
      "x-amz-server-side-encryption": v.sse,
      ...(v.kmsKeyId ? { "x-amz-server-side-encryption-aws-kms-key-id": v.kmsKeyId } : {}),
      ...(full
        ? {
            "last-modified": new Date(v.lastModified).toUTCString(),
            etag: v.etag,
            "content-type": v.contentType,
          }
        : {}),
    };
  }

  #version(b: Bucket, i: S3Input): ObjectVersion {
    const id = i.query.get("versionId");
    if (id !== null) {
      const v = b.objects[i.key]?.find((x) => x.versionId === id);
      if (!v)
        throw s3Err("NoSuchVersion", 404, "The specified version does not exist.", {
          Key: i.key,
          VersionId: id,
        });
      if (v.deleteMarker)
        throw s3Err("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");
      return v;
    }
    const v = this.#precondition(b, i, false);
    if (!v) throw s3Err("NoSuchKey", 404, "The specified key does not exist.", { Key: i.key });
    return v;
  }

  GetObject(i: S3Input): S3Output {
    const b = this.bucket(i.bucket);
    const v = this.#version(b, i);
    return { headers: this.#objectHeaders(b, v, true), body: v.body };
  }

  HeadObject(i: S3Input): S3Output {
    const b = this.bucket(i.bucket);
    const v = this.#version(b, i);
    return { headers: { ...this.#objectHeaders(b, v, true), "content-length": String(v.size) } };
  }

  DeleteObject(i: S3Input): S3Output {
    const b = this.bucket(i.bucket);
    const id = i.query.get("versionId");
    if (id !== null) {
      b.objects[i.key] = (b.objects[i.key] ?? []).filter((v) => v.versionId !== id);
      return { status: 204, headers: { "x-amz-version-id": id } };
    }
    // Conditional deletes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html).
    this.#precondition(b, i, true);
    if (b.versioning) {
      const marker: ObjectVersion = {
        versionId: this.#versionId(b),
        etag: "",
        body: "",
        size: 0,
        lastModified: i.now,
        contentType: "",
        sse: "AES256",
        deleteMarker: true,
      };
      if (current(b, i.key)) this.#store(b, i.key, marker);
      return {
        status: 204,
        headers: { "x-amz-delete-marker": "true", "x-amz-version-id": marker.versionId },
      };
    }
    if (b.objects[i.key])
      this.#uploads.set(`${b.name}/${i.key}`, (this.#uploads.get(`${b.name}/${i.key}`) ?? 0) + 1);
    delete b.objects[i.key];
    return { status: 204 };
  }

  inventory(): InventoryItem[] {
    const items: InventoryItem[] = [];
    for (const b of Object.values(this.state.buckets)) {
      items.push({
        cloud: "aws",
        service: "s3",
        type: "bucket",
        id: b.name,
        region: b.region,
        state: b.versioning ?? "Unversioned",
        tags: {},
      });
      for (const [key, versions] of Object.entries(b.objects)) {
        const now = current(b, key);
        if (now)
          items.push({
            cloud: "aws",
            service: "s3",
            type: "object",
            id: `${b.name}/${key}`,
            name: key,
            region: b.region,
            state: `${versions.length} version(s), ${now.sse}`,
            tags: {},
          });
      }
    }
    return items;
  }
}

export { doc, el };

/**
 * Which S3 operation a request is: REST-XML over path-style (`/<bucket>/<key>`) or virtual-hosted-style
 * (`<bucket>.s3.<region>.amazonaws.com`, or `<bucket>.localhost`) URLs
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html).
 */
import type { CloudRequest } from "../../cloud.js";

export interface S3Route {
  operation: string;
  bucket?: string;
  key?: string;
}

/** The bucket a virtual-hosted-style Host header names, if any. */
export function hostBucket(host: string | undefined): string | undefined {
  const name = (host ?? "").replace(/:\d+$/, "").toLowerCase();
  const aws = /^(.+?)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com$/.exec(name);
  if (aws) return aws[1];
  const local = /^(.+)\.localhost$/.exec(name);
  return local?.[1];
}

const decode = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/** The operation, bucket and key of an S3 request; undefined for a method S3 does not serve there. */
export function routeS3(req: CloudRequest): S3Route | undefined {
  const virtual = hostBucket(req.headers.host);
  const path = req.path.replace(/^\//, "");
  let bucket: string | undefined;
  let key: string | undefined;
  if (virtual !== undefined) {
    bucket = virtual;
    key = path === "" ? undefined : decode(path);
  } else {
    const slash = path.indexOf("/");
    bucket = path === "" ? undefined : decode(slash < 0 ? path : path.slice(0, slash));
    key = slash < 0 || slash === path.length - 1 ? undefined : decode(path.slice(slash + 1));
  }
  const q = req.query;
  const m = req.method.toUpperCase();
  if (bucket === undefined) return m === "GET" ? { operation: "ListBuckets" } : undefined;
  if (key === undefined) {
    const op =
      m === "PUT"
        ? q.has("versioning")
          ? "PutBucketVersioning"
          : "CreateBucket"
        : m === "GET"
          ? q.has("versioning")
            ? "GetBucketVersioning"
            : q.has("versions")
              ? "ListObjectVersions"
              : q.has("location")
                ? "GetBucketLocation"
                : q.get("list-type") === "2"
                  ? "ListObjectsV2"
                  : "ListObjects"
          : m === "HEAD"
            ? "HeadBucket"
            : m === "DELETE"
              ? "DeleteBucket"
              : undefined;
    return op ? { operation: op, bucket } : undefined;
  }
  const op =
    m === "PUT"
      ? "PutObject"
      : m === "GET"
        ? "GetObject"
        : m === "HEAD"
          ? "HeadObject"
          : m === "DELETE"
            ? "DeleteObject"
            : undefined;
  return op ? { operation: op, bucket, key } : undefined;
}

/** The payload of an `aws-chunked` upload: the chunks' data without their sizes, signatures and trailers. */
export function decodeAwsChunked(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf("\r\n", at);
    if (eol < 0) break;
    const size = Number.parseInt(body.subarray(at, eol).toString("latin1").split(";")[0] ?? "", 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

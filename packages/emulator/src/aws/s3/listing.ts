/**
 * S3 listings: ListBuckets, ListObjectsV2 (and the original ListObjects) with prefix, delimiter and
 * continuation tokens, and ListObjectVersions (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html).
 */
import { iso } from "../kernel/common.js";
import { current, s3Err } from "./model.js";
import { doc, el, type S3Input, type S3Output, type S3Service } from "./service.js";

const OWNER = "<Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID></Owner>";

function maxKeys(i: S3Input): number {
  const raw = i.query.get("max-keys");
  if (raw === null) return 1000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw s3Err("InvalidArgument", 400, "Provided max-keys not an integer or within integer range", {
      ArgumentName: "max-keys",
    });
  return Math.min(n, 1000);
}

export function listBuckets(svc: S3Service): S3Output {
  const buckets = Object.values(svc.state.buckets)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(
      (b) =>
        `<Bucket>${el("Name", b.name)}${el("CreationDate", iso(b.createdAt))}${el("BucketRegion", b.region)}</Bucket>`,
    )
    .join("");
  return { xml: doc("ListAllMyBucketsResult", `${OWNER}<Buckets>${buckets}</Buckets>`) };
}

export function listObjects(svc: S3Service, i: S3Input, v2: boolean): S3Output {
  const b = svc.bucket(i.bucket);
  const prefix = i.query.get("prefix") ?? "";
  const delimiter = i.query.get("delimiter") ?? "";
  const limit = maxKeys(i);
  const token = i.query.get("continuation-token");
  const after =
    token !== null
      ? Buffer.from(token, "base64url").toString("utf8")
      : (i.query.get(v2 ? "start-after" : "marker") ?? "");
  const keys = Object.keys(b.objects)
    .filter((k) => k.startsWith(prefix) && k > after && current(b, k))
    .sort();
  const contents: string[] = [];
  const prefixes = new Set<string>();
  let last = "";
  let truncated = false;
  for (const k of keys) {
    if (contents.length + prefixes.size >= limit) {
      truncated = true;
      break;
    }
    last = k;
    const cut = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
    if (cut >= 0) {
      prefixes.add(k.slice(0, cut + delimiter.length));
      continue;
    }
    const o = current(b, k)!;
    contents.push(
      `<Contents>${el("Key", k)}${el("LastModified", iso(o.lastModified))}${el("ETag", o.etag)}${el("Size", o.size)}${el("StorageClass", "STANDARD")}</Contents>`,
    );
  }
  const common = [...prefixes].map((p) => `<CommonPrefixes>${el("Prefix", p)}</CommonPrefixes>`).join("");
  const head = `${el("Name", b.name)}${el("Prefix", prefix)}${delimiter ? el("Delimiter", delimiter) : ""}${el("MaxKeys", limit)}${el("IsTruncated", truncated)}`;
  const paging = v2
    ? `${el("KeyCount", contents.length + prefixes.size)}${token !== null ? el("ContinuationToken", token) : ""}${truncated ? el("NextContinuationToken", Buffer.from(last).toString("base64url")) : ""}`
    : `${el("Marker", after)}${truncated && delimiter ? el("NextMarker", last) : ""}`;
  return { xml: doc("ListBucketResult", `${head}${paging}${contents.join("")}${common}`) };
}

export function listObjectVersions(svc: S3Service, i: S3Input): S3Output {
  const b = svc.bucket(i.bucket);
  const prefix = i.query.get("prefix") ?? "";
  const limit = maxKeys(i);
  // Every version, key by key, newest first (as S3 lists them); the markers resume after an entry.
  const all = Object.keys(b.objects)
    .filter((k) => k.startsWith(prefix))
    .sort()
    .flatMap((key) => {
      const versions = b.objects[key] ?? [];
      return versions.map((v, n) => ({ key, v, latest: n === versions.length - 1 })).reverse();
    });
  const keyMarker = i.query.get("key-marker");
  const idMarker = i.query.get("version-id-marker");
  let from = 0;
  if (keyMarker) {
    const at = all.findIndex((e) => e.key === keyMarker && (idMarker ? e.v.versionId === idMarker : false));
    from = at >= 0 ? at + 1 : all.findIndex((e) => e.key > keyMarker);
    if (from < 0) from = all.length;
  }
  const page = all.slice(from, from + limit);
  const truncated = from + limit < all.length;
  const lastEntry = page[page.length - 1];
  const entries = page.map(({ key, v, latest }) => {
    const common = `${el("Key", key)}${el("VersionId", v.versionId)}${el("IsLatest", latest)}${el("LastModified", iso(v.lastModified))}`;
    return v.deleteMarker
      ? `<DeleteMarker>${common}${OWNER}</DeleteMarker>`
      : `<Version>${common}${el("ETag", v.etag)}${el("Size", v.size)}${el("StorageClass", "STANDARD")}${OWNER}</Version>`;
  });
  const next =
    truncated && lastEntry
      ? `${el("NextKeyMarker", lastEntry.key)}${el("NextVersionIdMarker", lastEntry.v.versionId)}`
      : "";
  return {
    xml: doc(
      "ListVersionsResult",
      `${el("Name", b.name)}${el("Prefix", prefix)}${el("KeyMarker", keyMarker ?? "")}${el("VersionIdMarker", idMarker ?? "")}${el("MaxKeys", limit)}${el("IsTruncated", truncated)}${next}${entries.join("")}`,
    ),
  };
}

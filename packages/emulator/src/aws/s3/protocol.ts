/**
 * The S3 wire protocol (REST-XML): a request signed for the `s3` service, path-style or virtual-hosted, is
 * routed to its operation, checked against the official model (URI, query and payload members), answered
 * with S3's headers (`ETag`, `x-amz-version-id`, `x-amz-server-side-encryption`), and failed with S3's
 * `<Error>` document (no body for HEAD) (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
 */
import { randomUUID } from "node:crypto";
import type { CloudRequest, HttpResponse, RoutedCall } from "../../cloud.js";
import { esc, parseXml } from "../../xml.js";
import { parseAuthScope } from "../kernel/call.js";
import { DEFAULT_REGION } from "../kernel/common.js";
import { AwsError, type FaultTriple } from "../kernel/errors.js";
import { loadModel, validateInput } from "../kernel/model.js";
import type { Tree } from "../kernel/query.js";
import { listBuckets, listObjects, listObjectVersions } from "./listing.js";
import { s3Err } from "./model.js";
import { decodeAwsChunked, routeS3, type S3Route } from "./routing.js";
import type { S3Input, S3Output, S3Service } from "./service.js";

// S3's own throttling and server errors (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
const FAULTS: Record<"throttle" | "error500" | "unavailable503", FaultTriple> = {
  throttle: ["SlowDown", 503, "Please reduce your request rate."],
  error500: ["InternalError", 500, "We encountered an internal error. Please try again."],
  unavailable503: ["ServiceUnavailable", 503, "Service is unable to handle request."],
};

/** True when the request is for S3: signed for the `s3` service, or addressed to a bucket's host name. */
export function isS3Request(req: CloudRequest): boolean {
  return parseAuthScope(req.headers.authorization).service === "s3";
}

export function routeS3Call(svc: S3Service, req: CloudRequest): RoutedCall | undefined {
  const route = routeS3(req);
  const operation = route?.operation ?? `${req.method} ${req.path}`;
  const head = req.method.toUpperCase() === "HEAD";
  return {
    service: "s3",
    operation,
    run: async () => run(svc, route, req),
    fault: (kind) => {
      const [code, status, message] = FAULTS[kind];
      return errorResponse(new AwsError(code, message, status), randomUUID(), head);
    },
  };
}

function errorResponse(err: AwsError, requestId: string, head: boolean): HttpResponse {
  const extra = (err as AwsError & { extra?: Record<string, string> }).extra ?? {};
  const fields = Object.entries(extra)
    .map(([k, v]) => `<${k}>${esc(v)}</${k}>`)
    .join("");
  return {
    status: err.status,
    headers: { "content-type": "application/xml", "x-amz-request-id": requestId, "x-amz-id-2": requestId },
    body:
      head || err.status === 304
        ? ""
        : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message>${fields}<RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`,
  };
}

/** The request body as sent: `aws-chunked` uploads carry the payload between chunk headers. */
function payload(req: CloudRequest): Buffer {
  const raw = Buffer.from(req.body, "utf8");
  const encoding = String(req.headers["content-encoding"] ?? "");
  const chunked =
    encoding.includes("aws-chunked") ||
    String(req.headers["x-amz-content-sha256"] ?? "").startsWith("STREAMING-");
  return chunked ? decodeAwsChunked(raw) : raw;
}

/** URI, query and payload members as the model names them, for the model check. */
function modelTree(route: S3Route, req: CloudRequest, body: Buffer): Tree {
  const tree: Record<string, unknown> = {};
  if (route.bucket !== undefined) tree.Bucket = route.bucket;
  if (route.key !== undefined) tree.Key = route.key;
  for (const [k, v] of req.query) if (v !== "") tree[k] = v;
  if (route.operation === "PutBucketVersioning" || route.operation === "CreateBucket") {
    let parsed: Record<string, unknown> = {};
    try {
      parsed = parseXml(body.toString("utf8")) as Record<string, unknown>;
    } catch {
      throw s3Err(
        "MalformedXML",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
      );
    }
    for (const [k, v] of Object.entries(parsed)) tree[k] = typeof v === "object" && v !== null ? v : {};
  }
  return tree as Tree;
}

async function run(svc: S3Service, route: S3Route | undefined, req: CloudRequest): Promise<HttpResponse> {
  const requestId = randomUUID();
  const head = req.method.toUpperCase() === "HEAD";
  try {
    if (!route)
      throw s3Err("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");
    const body = payload(req);
    const model = loadModel("s3", svc.kernel.ctx.log);
    if (model) {
      const problem = validateInput(model, route.operation, modelTree(route, req, body), "rest-xml")[0];
      if (problem)
        throw s3Err(
          problem.kind === "missing" ? "InvalidRequest" : "InvalidArgument",
          400,
          `${problem.wire}: ${problem.detail}`,
          { ArgumentName: problem.wire },
        );
    }
    const input: S3Input = {
      bucket: route.bucket ?? "",
      key: route.key ?? "",
      headers: req.headers,
      query: req.query,
      body,
      region: parseAuthScope(req.headers.authorization).region ?? DEFAULT_REGION,
      now: svc.kernel.ctx.now(),
    };
    const out = await dispatch(svc, route.operation, input);
    const text = out.xml ?? out.body ?? "";
    return {
      status: out.status ?? 200,
      headers: {
        "x-amz-request-id": requestId,
        "x-amz-id-2": requestId,
        ...(out.xml ? { "content-type": "application/xml" } : {}),
        ...out.headers,
      },
      body: head ? "" : text,
    };
  } catch (err) {
    if (err instanceof AwsError) return errorResponse(err, requestId, head);
    throw err;
  }
}

function dispatch(svc: S3Service, operation: string, i: S3Input): S3Output | Promise<S3Output> {
  switch (operation) {
    case "ListBuckets":
      return listBuckets(svc);
    case "ListObjectsV2":
      return listObjects(svc, i, true);
    case "ListObjects":
      return listObjects(svc, i, false);
    case "ListObjectVersions":
      return listObjectVersions(svc, i);
    case "CreateBucket":
    case "HeadBucket":
    case "GetBucketLocation":
    case "DeleteBucket":
    case "GetBucketVersioning":
    case "PutBucketVersioning":
    case "PutObject":
    case "GetObject":
    case "HeadObject":
    case "DeleteObject":
      return svc[operation](i);
    default:
      throw s3Err("NotImplemented", 501, `The k3sinfra emulator does not implement ${operation}.`);
  }
}

/**
 * What every AWS service handler is given: the request as a `Call` (a service itself is given a `ServiceKernel`,
 * lookups.ts), and the helpers of the signed request it came in.
 */
import type { CloudRequest } from "../../cloud.js";
import type { Tree } from "./query.js";

/** One request as a handler sees it. */
export interface Call {
  region: string;
  now: number;
  requestId: string;
  operation: string;
  /** The access key id of the SigV4 credential scope (only STS checks it). */
  accessKeyId?: string | undefined;
  /** The HTTP request, for the signature check of session credentials. */
  request?: CloudRequest;
}

/** A Query-protocol operation (EC2, RDS, ELBv2, STS, IAM): the parsed form tree in, the result object out. */
export type QueryOp = (input: Tree, call: Call) => object | undefined | Promise<object | undefined>;

export function xmlHeaders(requestId: string): Record<string, string> {
  return { "content-type": "text/xml", "x-amzn-RequestId": requestId, date: new Date().toUTCString() };
}

/** Key, region and service from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/<region>/<service>/aws4_request, …`. */
export function parseAuthScope(auth: string | undefined): {
  accessKeyId?: string;
  region?: string;
  service?: string;
} {
  const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth ?? "");
  return m ? { accessKeyId: m[1], region: m[2], service: m[3] } : {};
}

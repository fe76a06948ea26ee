/**
 * The Cloudflare v4 envelope `{ success, errors, messages, result, result_info? }` and the errors the DNS
 * API answers with. Texts are the ones real responses carry, as quoted in public issue logs (cited per entry);
 * entries marked "not verified" have no public capture and keep Cloudflare's shape with our own wording.
 */
import type { HttpResponse } from "../cloud.js";

/** One entry of `errors`; validation errors nest their cause in `error_chain`. */
export interface CfErrorItem {
  code: number;
  message: string;
  error_chain?: { code: number; message: string }[];
}

/** An API error: rendered as `{ success: false, errors: [...] }` with its HTTP status. */
export class CfError extends Error {
  readonly status: number;
  readonly item: CfErrorItem;
  readonly headers: Record<string, string>;
  constructor(status: number, item: CfErrorItem, headers: Record<string, string> = {}) {
    super(item.message);
    this.status = status;
    this.item = item;
    this.headers = headers;
  }
}

/** Paging block of list answers. */
export interface ResultInfo {
  page: number;
  per_page: number;
  count: number;
  total_count: number;
  total_pages: number;
}

/** Headers every answer carries; `cf-ray` identifies the request as on the real edge. */
export const jsonHeaders = (ray: string, extra: Record<string, string> = {}): Record<string, string> => ({
  "content-type": "application/json",
  "cf-ray": `${ray}-EMU`,
  ...extra,
});

/** A success envelope. */
export const okBody = (result: unknown, resultInfo?: ResultInfo, messages: unknown[] = []): string =>
  JSON.stringify({
    success: true,
    errors: [],
    messages,
    result,
    ...(resultInfo ? { result_info: resultInfo } : {}),
  });

/** A failure envelope as the client's APIError sees it (`e.errors`). */
export const errorResponse = (err: CfError, ray: string): HttpResponse => ({
  status: err.status,
  headers: jsonHeaders(ray, err.headers),
  body: JSON.stringify({ success: false, errors: [err.item], messages: [], result: null }),
});

const validation = (code: number, message: string): CfError =>
  new CfError(400, { code: 1004, message: "DNS Validation Error", error_chain: [{ code, message }] });

/** The errors the emulated DNS API raises. */
export const cfErrors = {
  // cloudflare/cloudflare-python#2678: 400 with 9106 when no credentials header is sent.
  missingAuth: () =>
    new CfError(400, { code: 9106, message: "Missing X-Auth-Key, X-Auth-Email or Authorization headers" }),
  // cert-manager/cert-manager#4465 (code and text); ansible-collections/community.general#9782 (an invalid token gets 403).
  invalidToken: () => new CfError(403, { code: 9109, message: "Invalid access token" }),
  // favonia/cloudflare-ddns#897: 10000 when the token may not act on the resource (here: a zone not in the account).
  authentication: () => new CfError(403, { code: 10000, message: "Authentication error" }),
  // cloudflare/workers-sdk#10025 (code 971); https://developers.cloudflare.com/fundamentals/api/reference/limits/ (429, retry-after).
  rateLimited: (retryAfterSeconds: number, headers: Record<string, string>) =>
    new CfError(
      429,
      { code: 971, message: "Please wait and consider throttling your request speed" },
      { ...headers, "retry-after": String(retryAfterSeconds) },
    ),
  // The routing error for a malformed identifier in the path (not verified: wording as commonly reported).
  badIdentifier: (path: string) =>
    new CfError(400, {
      code: 7003,
      message: `Could not route to ${path}, perhaps your object identifier is invalid?`,
    }),
  noRoute: () => new CfError(400, { code: 7000, message: "No route for that URI" }),
  // zanjie1999/cloudflare-api-v4-ddns#5: 81044 for an unknown record id (status not captured; 404 assumed).
  recordNotFound: () => new CfError(404, { code: 81044, message: "Record does not exist." }),
  // cloudflare/terraform-provider-cloudflare#1247 (HTTP 400).
  hostTaken: () =>
    new CfError(400, { code: 81053, message: "An A, AAAA, or CNAME record with that host already exists." }),
  // favonia/cloudflare-ddns#990, jeessy2/ddns-go#1557 (HTTP 400).
  cnameTaken: () =>
    new CfError(400, {
      code: 81054,
      message:
        "A CNAME record with that host already exists. For more details, refer to <https://developers.cloudflare.com/dns/manage-dns-records/troubleshooting/records-with-same-name/>.",
    }),
  // jeessy2/ddns-go#1149, aaPanel/aaPanel#112 (HTTP 400): same name, type and content, other settings differ.
  recordExists: () => new CfError(400, { code: 81057, message: "Record already exists." }),
  // jeessy2/ddns-go#1378 (HTTP 400): every setting identical.
  identicalRecord: () => new CfError(400, { code: 81058, message: "An identical record already exists." }),
  // timothymiller/cloudflare-ddns#230 and #104.
  badIPv4: () =>
    new CfError(400, { code: 9005, message: "Content for A record must be a valid IPv4 address." }),
  // wherelse/cloudflare-ddns-script#15.
  badIPv6: () =>
    new CfError(400, { code: 9006, message: "Content for AAAA record must be a valid IPv6 address." }),
  // Not verified: code and wording ours.
  badHostname: () => validation(9007, "Content for CNAME record is invalid."),
  // timothymiller/cloudflare-ddns#179: 1004 wrapping 9021.
  badTtl: (min: number) =>
    validation(9021, `TTL must be between ${min} and 86400 seconds, or 1 for Automatic.`),
  // kubernetes-sigs/external-dns#1945: 1004 wrapping 9004.
  notProxiable: () => validation(9004, "This record type cannot be proxied."),
  // DNSControl/dnscontrol#4776 (9003).
  proxyTarget: (ip: string) => validation(9003, `Target ${ip} is not allowed for a proxied record.`),
  // Not verified: code and wording ours.
  badType: (type: string) => validation(9000, `DNS record type "${type}" is invalid.`),
  // Not verified: code and wording ours.
  badName: (name: string, zone: string) =>
    validation(9000, `DNS name ${name} is invalid: it must be inside the zone ${zone}.`),
  // Limits: https://developers.cloudflare.com/dns/manage-dns-records/reference/record-attributes/ (plans table,
  // cloudflare-docs src/content/plans/index.json); error code and wording not verified.
  commentTooLong: (max: number) => validation(9101, `Comment must be at most ${max} characters.`),
  commentNewline: () => validation(9101, "Comment must not contain newline or carriage return characters."),
  tagsNotAvailable: () => validation(9102, "DNS record tags are not available on this zone's plan."),
  badTag: (tag: string) =>
    validation(
      9102,
      `Tag "${tag}" is invalid: use name:value, a name of at most 32 letters, digits, - or _, and a value of at most 100 characters.`,
    ),
  tooManyTags: () => validation(9102, "A DNS record can have at most 20 tags."),
  // timothymiller/cloudflare-ddns#206.
  badBody: () => new CfError(400, { code: 9207, message: "Request body is invalid." }),
} as const;

/**
 * The Azure Resource Manager wire conventions every resource provider shares: resource ids, the error body,
 * and the responses of long-running operations.
 * https://github.com/Azure/azure-resource-manager-rpc/blob/master/v1.0/common-api-details.md
 */
import type { HttpResponse } from "../cloud.js";

/** An ARM error as sent: `{"error":{"code","message","target"?,"details"?}}` with an HTTP status. */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly target?: string,
  ) {
    super(message);
  }
}

/** The errors the emulated providers raise, with ARM's codes and message texts where known. */
export const armErrors = {
  // pulumi/pulumi#3891: "Resource group 'x' could not be found."
  resourceGroupNotFound: (rg: string) =>
    new ArmError(404, "ResourceGroupNotFound", `Resource group '${rg}' could not be found.`),
  // Azure/azqr#263: the ResourceNotFound text.
  resourceNotFound: (type: string, name: string, rg: string) =>
    new ArmError(
      404,
      "ResourceNotFound",
      `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    ),
  missingApiVersion: () =>
    new ArmError(
      400,
      "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.",
    ),
  unsupportedApiVersion: (version: string, type: string, supported: readonly string[]) =>
    new ArmError(
      400,
      "NoRegisteredProviderFound",
      `No registered resource provider found for location and API version '${version}' and type '${type}'. The supported api-versions are '${supported.join(", ")}'.`,
    ),
  invalid: (message: string, target?: string, code = "InvalidParameter") =>
    new ArmError(400, code, message, {}, target),
  invalidName: (type: string, name: string, rule: string) =>
    new ArmError(
      400,
      "InvalidResourceName",
      `Resource name ${name} is invalid for ${type}: ${rule}.`,
      {},
      name,
    ),
  unauthenticated: (why: string) =>
    new ArmError(401, "AuthenticationFailed", `Authentication failed. ${why}`, {
      "www-authenticate":
        'Bearer authorization_uri="https://login.microsoftonline.com/", error="invalid_token"',
    }),
  inUse: (code: string, message: string) => new ArmError(400, code, message),
  conflict: (code: string, message: string) => new ArmError(409, code, message),
  throttled: (seconds: number) =>
    new ArmError(
      429,
      "TooManyRequests",
      "The request is being throttled as the limit has been reached for operation type. For more information, see https://aka.ms/armthrottling",
      { "retry-after": String(seconds) },
    ),
  internal: () =>
    new ArmError(500, "InternalServerError", "Encountered internal server error. Please try again."),
  unavailable: () =>
    new ArmError(
      503,
      "ServiceUnavailable",
      "The service is temporarily unavailable. Please try again later.",
      {
        "retry-after": "1",
      },
    ),
};

/** A JSON answer with ARM's request id headers. */
export function json(status: number, body: unknown, requestId: string, headers: Record<string, string> = {}) {
  return {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "x-ms-request-id": requestId,
      "x-ms-correlation-request-id": requestId,
      ...headers,
    },
    body: body === undefined ? "" : JSON.stringify(body),
  } satisfies HttpResponse;
}

/** The wire form of an `ArmError`. */
export const errorResponse = (e: ArmError, requestId: string): HttpResponse =>
  json(
    e.status,
    { error: { code: e.code, message: e.message, ...(e.target ? { target: e.target } : {}), details: [] } },
    requestId,
    e.headers,
  );

/** A request path split into ARM's parts. */
export interface ArmPath {
  readonly subscription: string;
  readonly resourceGroup?: string | undefined;
  /** The scope an extension resource hangs off (a role assignment's vault id); `undefined` otherwise. */
  readonly scope?: string | undefined;
  /** Provider namespace, e.g. `Microsoft.Network`. */
  readonly namespace?: string | undefined;
  /** Type chain, e.g. `["virtualNetworks", "subnets"]`. */
  readonly types: readonly string[];
  /** Names along the chain; one fewer than `types` for a collection (list) or action. */
  readonly names: readonly string[];
  /** The path as sent, up to the last name: the resource id. */
  readonly id: string;
}

/** Parses `/subscriptions/{s}[/resourceGroups/{rg}][/providers/{ns}/{type}/{name}…]…`; `undefined` when it is not ARM. */
export function parseArmPath(path: string): ArmPath | undefined {
  const seg = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (seg[0]?.toLowerCase() !== "subscriptions" || seg.length < 2) return undefined;
  let i = 2;
  let resourceGroup: string | undefined;
  if (seg[i]?.toLowerCase() === "resourcegroups") {
    resourceGroup = seg[i + 1];
    i += 2;
  }
  let scope: string | undefined;
  let namespace: string | undefined;
  let types: string[] = [];
  let names: string[] = [];
  let chainStart = i;
  while (i < seg.length) {
    if (seg[i]?.toLowerCase() === "providers" && (i === chainStart || types.length === names.length)) {
      if (namespace !== undefined) scope = `/${seg.slice(0, i).join("/")}`;
      namespace = seg[i + 1];
      types = [];
      names = [];
      i += 2;
      chainStart = i;
      continue;
    }
    if (types.length === names.length) types.push(seg[i]!);
    else names.push(seg[i]!);
    i++;
  }
  const idEnd = types.length === names.length ? seg.length : seg.length - 1;
  return {
    subscription: seg[1]!,
    resourceGroup,
    scope,
    namespace,
    types,
    names,
    id: `/${seg.slice(0, idEnd).map(encodeSegment).join("/")}`,
  };
}

const encodeSegment = (s: string) => s.replace(/[^A-Za-z0-9._~()'!*:@,;+$=-]/g, encodeURIComponent);

/** `Microsoft.Network/virtualNetworks/subnets`, lower-cased for lookups. */
export const typeKey = (p: Pick<ArmPath, "namespace" | "types">): string =>
  `${p.namespace ?? ""}/${p.types.join("/")}`.toLowerCase();

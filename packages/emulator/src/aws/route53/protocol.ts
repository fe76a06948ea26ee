/**
 * The Route 53 wire protocol: REST routes in, XML out, the `<ErrorResponse>` envelope and injected faults.
 */
import { randomUUID } from "node:crypto";
import type { CloudRequest, HttpResponse, RoutedCall } from "../../cloud.js";
import { children, esc, parseXml, type XmlNode } from "../../xml.js";
import { xmlHeaders } from "../kernel/call.js";
import { AwsError, FAULTS, type FaultTriple } from "../kernel/errors.js";
import { loadModel, problemToError, validateInput } from "../kernel/model.js";
import type { Tree } from "../kernel/query.js";
import { matchRoute, node, type Route, stripPrefix, XMLNS } from "./model.js";
import { route53Ops } from "./operations.js";
import type { Route53Service } from "./service.js";

export function route(svc: Route53Service, req: CloudRequest): RoutedCall | undefined {
  const match = matchRoute(req.method, req.path);
  const operation = match?.operation ?? `${req.method} ${req.path}`;
  return {
    service: "route53",
    operation,
    run: async () => run(svc, match, req),
    fault: (kind) => {
      const faults = {
        ...FAULTS.route53!,
        // A throttled change is reported as PriorRequestNotComplete (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html#API_ChangeResourceRecordSets_Errors).
        ...(operation === "ChangeResourceRecordSets"
          ? {
              throttle: [
                "PriorRequestNotComplete",
                400,
                "The request was rejected because Route 53 was still processing a prior request.",
              ] as FaultTriple,
            }
          : {}),
      };
      const [code, status, message] = faults[kind]!;
      return error(new AwsError(code, message, status), randomUUID());
    },
  };
}

export function error(err: AwsError, requestId: string): HttpResponse {
  return {
    status: err.status,
    headers: xmlHeaders(requestId),
    body: `<?xml version="1.0"?>\n<ErrorResponse xmlns="${XMLNS}"><Error><Type>${err.type}</Type><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

export async function run(
  svc: Route53Service,
  match: Route | undefined,
  req: CloudRequest,
): Promise<HttpResponse> {
  const requestId = randomUUID();
  try {
    if (!match)
      throw new AwsError("InvalidAction", `Unsupported Route 53 request: ${req.method} ${req.path}`, 400);
    let parsed: Record<string, XmlNode> = {};
    try {
      parsed = parseXml(req.body);
    } catch {
      throw new AwsError("InvalidInput", "Could not parse the request body as XML");
    }
    const rootName = Object.keys(parsed)[0];
    const body = node(rootName ? parsed[rootName] : undefined) ?? {};
    const params = Object.fromEntries(Object.entries(match.params).map(([k, val]) => [k, stripPrefix(val)]));
    const model = loadModel("route53", svc.ctx.log);
    if (model) {
      const tree: Record<string, unknown> = { ...body, ...params };
      for (const [k, val] of req.query) tree[k] = val;
      const problems = validateInput(model, match.operation, tree as Tree, "rest-xml");
      if (problems[0]) throw problemToError(problems[0], "route53");
    }
    const handler = route53Ops(svc)[match.operation];
    if (!handler) throw new AwsError("InvalidAction", `Unsupported Route 53 operation ${match.operation}`);
    const out = handler({ params, query: req.query, body, now: svc.ctx.now() });
    const xml = `<?xml version="1.0"?>\n<${out.root} xmlns="${XMLNS}">${children(out.body, "member")}</${out.root}>`;
    return { status: out.status ?? 200, headers: { ...xmlHeaders(requestId), ...out.headers }, body: xml };
  } catch (err) {
    if (err instanceof AwsError) return error(err, requestId);
    throw err;
  }
}

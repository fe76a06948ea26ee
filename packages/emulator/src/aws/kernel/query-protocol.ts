/**
 * The form-encoded Query protocols (EC2's `ec2` and awsQuery: RDS, ELBv2, STS, IAM): a request told apart by
 * its `Version` field or its SigV4 credential scope, checked against the service model, answered in the
 * service's XML envelope. Each service gives a `QuerySpec`; the AWS cloud (index.ts) routes through here.
 */
import { randomUUID } from "node:crypto";
import type { CloudContext, CloudRequest, HttpResponse, RoutedCall } from "../../cloud.js";
import { children, esc } from "../../xml.js";
import { type Call, parseAuthScope, type QueryOp, xmlHeaders } from "./call.js";
import { DEFAULT_REGION } from "./common.js";
import { AwsError, FAULTS } from "./errors.js";
import type { Protocol } from "./lookups.js";
import { type Dialect, loadModel, type ModelName, problemToError, validateInput } from "./model.js";
import { parseQueryTree, type Tree } from "./query.js";

export interface QuerySpec {
  /** Public service name (request log, call counts, fault filters). */
  name: "ec2" | "rds" | "elbv2" | "sts" | "iam";
  signingName: string;
  version: string;
  dialect: Exclude<Dialect, "rest-xml" | "json">;
  xmlns: string;
  model: ModelName;
  errorStyle: "ec2" | "rds" | "validation-error";
  ops: () => Record<string, QueryOp>;
}

/** Authenticates and authorizes the caller of a request (role sessions; the static key passes); throws AwsError. */
export type Guard = (
  request: CloudRequest,
  call: Call & { service: string },
  input: Record<string, unknown>,
  protocol: Protocol,
) => void;

/** Routes a Query request to the spec it names; undefined when it is not a Query request of these services. */
export function routeQuery(
  specs: readonly QuerySpec[],
  req: CloudRequest,
  ctx: CloudContext,
  guard: Guard,
): RoutedCall | undefined {
  const scope = parseAuthScope(req.headers.authorization);
  const region = scope.region ?? DEFAULT_REGION;
  const ctype = String(req.headers["content-type"] ?? "");
  const isForm = ctype.includes("x-www-form-urlencoded") || /(^|&)Action=/.test(req.body);
  if (!isForm && !req.query.has("Action")) return undefined;
  const params = new URLSearchParams(req.body);
  for (const [k, v] of req.query) if (!params.has(k)) params.append(k, v);
  const action = params.get("Action");
  const version = params.get("Version");
  const spec = specs.find((s) => s.version === version) ?? specs.find((s) => s.signingName === scope.service);
  if (!spec || !action) return undefined;
  return {
    service: spec.name,
    operation: action,
    run: () =>
      runQuery(spec, action, params, { region, accessKeyId: scope.accessKeyId, request: req }, ctx, guard),
    fault: (kind) => {
      const [code, status, message] = FAULTS[spec.name]![kind];
      return queryError(spec, new AwsError(code, message, status), randomUUID());
    },
  };
}

async function runQuery(
  spec: QuerySpec,
  action: string,
  params: URLSearchParams,
  from: { region: string; accessKeyId: string | undefined; request: CloudRequest },
  ctx: CloudContext,
  guard: Guard,
): Promise<HttpResponse> {
  const requestId = randomUUID();
  try {
    const handler = spec.ops()[action];
    const model = loadModel(spec.model, ctx.log);
    if (!handler || (model && !model.operations[action])) {
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html (InvalidAction)
      const known = model?.operations[action] !== undefined;
      throw new AwsError(
        "InvalidAction",
        known
          ? `The action ${action} is not implemented by the k3sinfra emulator.`
          : `The action ${action} is not valid for this web service.`,
      );
    }
    const input = parseQueryTree(params);
    delete input.Action;
    delete input.Version;
    if (model) {
      const problems = validateInput(model, action, input, spec.dialect);
      if (problems[0]) throw problemToError(problems[0], spec.errorStyle);
    }
    // DryRun: check the request, then answer DryRunOperation (412) instead of acting
    // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/CommonParameters.html).
    if (spec.dialect === "ec2" && input.DryRun === "true") {
      throw new AwsError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
    }
    const call: Call = { ...from, now: ctx.now(), requestId, operation: action };
    guard(from.request, { ...call, service: spec.name }, input, spec.dialect === "ec2" ? "ec2" : "query");
    const result = (await handler(input as Tree, call)) ?? {};
    return {
      status: 200,
      headers: xmlHeaders(requestId),
      body: querySuccess(spec, action, result, requestId),
    };
  } catch (err) {
    if (err instanceof AwsError) return queryError(spec, err, requestId);
    throw err;
  }
}

function querySuccess(spec: QuerySpec, action: string, result: object, requestId: string): string {
  const head = `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${spec.xmlns}">`;
  if (spec.dialect === "ec2") {
    return `${head}<requestId>${requestId}</requestId>${children(result as Record<string, unknown>, "item")}</${action}Response>`;
  }
  return `${head}<${action}Result>${children(result as Record<string, unknown>, "member")}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

function queryError(spec: QuerySpec, err: AwsError, requestId: string): HttpResponse {
  let body: string;
  if (spec.dialect === "ec2") {
    // EC2 error envelope: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
    body = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
  } else {
    body = `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${spec.xmlns}"><Error><Type>${err.type}</Type><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  }
  return { status: err.status, headers: xmlHeaders(requestId), body };
}

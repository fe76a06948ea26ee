/**
 * The awsJson1.1 protocol (SSM, ACM): `POST /` with `X-Amz-Target: <prefix>.<Operation>` and a JSON body;
 * answers are JSON, errors `{"__type": code, "message": …}` with the code also in `x-amzn-ErrorType`
 * (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html).
 */
import { randomUUID } from "node:crypto";
import type { CloudRequest, HttpResponse, RoutedCall } from "../../cloud.js";
import type { Call } from "./call.js";
import { AwsError, FAULTS } from "./errors.js";
import { jsonTree, loadModel, type ModelName, problemToError, validateInput } from "./model.js";

export type JsonOp = (input: Record<string, unknown>, call: Call) => object | Promise<object>;

export interface JsonService {
  /** Public service name (request log, call counts, fault filters). */
  readonly name: "ssm" | "acm" | "kms";
  /** The `X-Amz-Target` prefix, e.g. `AmazonSSM`. */
  readonly targetPrefix: string;
  readonly model: ModelName;
  readonly ops: Record<string, JsonOp>;
}

const CONTENT_TYPE = "application/x-amz-json-1.1";

const headers = (requestId: string, errorType?: string): Record<string, string> => ({
  "content-type": CONTENT_TYPE,
  "x-amzn-RequestId": requestId,
  ...(errorType ? { "x-amzn-ErrorType": errorType } : {}),
});

const errorResponse = (err: AwsError, requestId: string): HttpResponse => ({
  status: err.status,
  headers: headers(requestId, err.code),
  body: JSON.stringify({ __type: err.code, message: err.message }),
});

/** Routes a request whose `X-Amz-Target` names one of these services; undefined when none does. */
export function routeJson(
  services: readonly JsonService[],
  req: CloudRequest,
  call: Omit<Call, "operation" | "requestId" | "now">,
  ctx: { now(): number; log(line: string): void },
): RoutedCall | undefined {
  const target = String(req.headers["x-amz-target"] ?? "");
  const dot = target.lastIndexOf(".");
  const service = services.find((s) => s.targetPrefix === target.slice(0, dot));
  if (!service || dot < 0) return undefined;
  const operation = target.slice(dot + 1);
  return {
    service: service.name,
    operation,
    run: async () => {
      const requestId = randomUUID();
      try {
        const model = loadModel(service.model, ctx.log);
        const handler = service.ops[operation];
        if (!handler) {
          // The JSON services' unknown-operation error (https://docs.aws.amazon.com/acm/latest/APIReference/CommonErrors.html).
          throw new AwsError(
            model?.operations[operation] ? "InvalidAction" : "UnknownOperationException",
            model?.operations[operation]
              ? `The action ${operation} is not implemented by the k3sinfra emulator.`
              : `The operation ${operation} is not valid for this web service.`,
          );
        }
        let input: unknown;
        try {
          input = req.body.trim() === "" ? {} : JSON.parse(req.body);
        } catch {
          throw new AwsError("SerializationException", "Could not parse the request body as JSON.");
        }
        if (typeof input !== "object" || input === null || Array.isArray(input))
          throw new AwsError("SerializationException", "The request body must be a JSON object.");
        if (model) {
          const tree = jsonTree(input);
          const problems =
            typeof tree === "object" && !Array.isArray(tree)
              ? validateInput(model, operation, tree, "json")
              : [];
          if (problems[0]) throw problemToError(problems[0], "json");
        }
        const result = await handler(input as Record<string, unknown>, {
          ...call,
          operation,
          requestId,
          now: ctx.now(),
        });
        return { status: 200, headers: headers(requestId), body: JSON.stringify(result) };
      } catch (err) {
        if (err instanceof AwsError) return errorResponse(err, requestId);
        throw err;
      }
    },
    fault: (kind) => {
      const [code, status, message] = FAULTS[service.name]![kind];
      return errorResponse(new AwsError(code, message, status), randomUUID());
    },
  };
}

/** A required string member of a JSON request (the model check has already seen that it is there). */
export const jsonStr = (input: Record<string, unknown>, name: string): string => String(input[name] ?? "");

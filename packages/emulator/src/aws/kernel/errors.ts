/** The AWS error every handler throws, and the injected faults as each service answers them. */
import type { FaultKind } from "../../types.js";
/** An AWS service error: rendered by the protocol layer in the service's error envelope. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }

  get type(): "Sender" | "Receiver" {
    return this.status >= 500 ? "Receiver" : "Sender";
  }
}

export const awsErr = (code: string, message: string, status = 400): AwsError =>
  new AwsError(code, message, status);

export type FaultTriple = [code: string, status: number, message: string];

// The JSON/query services answer internal and availability faults alike.
const INTERNAL: FaultTriple = [
  "InternalFailure",
  500,
  "The request processing has failed because of an unknown error, exception or failure.",
];
const UNAVAILABLE: FaultTriple = [
  "ServiceUnavailable",
  503,
  "The request has failed due to a temporary failure of the server.",
];
const RATE_EXCEEDED: FaultTriple = ["Throttling", 400, "Rate exceeded"];

/**
 * Injected faults per service, as the real services send them:
 * EC2 throttling is RequestLimitExceeded with HTTP 503 (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html);
 * RDS/ELBv2 use `Throttling` 400 "Rate exceeded" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-api-throttling.html);
 * Route 53 `Throttling` / `PriorRequestNotComplete` 400 (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html#limits-api-requests).
 */
export const FAULTS: Record<string, Record<Exclude<FaultKind, "slow">, FaultTriple>> = {
  ec2: {
    throttle: ["RequestLimitExceeded", 503, "Request limit exceeded."],
    error500: ["InternalError", 500, "An internal error has occurred"],
    unavailable503: ["Unavailable", 503, "The server is overloaded and can't handle the request."],
  },
  rds: { throttle: RATE_EXCEEDED, error500: INTERNAL, unavailable503: UNAVAILABLE },
  elbv2: { throttle: RATE_EXCEEDED, error500: INTERNAL, unavailable503: UNAVAILABLE },
  route53: { throttle: RATE_EXCEEDED, error500: INTERNAL, unavailable503: UNAVAILABLE },
  sts: { throttle: RATE_EXCEEDED, error500: INTERNAL, unavailable503: UNAVAILABLE },
  iam: { throttle: RATE_EXCEEDED, error500: INTERNAL, unavailable503: UNAVAILABLE },
  // The JSON services throttle with ThrottlingException (https://docs.aws.amazon.com/acm/latest/APIReference/CommonErrors.html).
  ssm: {
    throttle: ["ThrottlingException", 400, "Rate exceeded"],
    error500: ["InternalServerError", 500, "An error occurred on the server side."],
    unavailable503: UNAVAILABLE,
  },
  // KMS throttles with ThrottlingException and fails with KMSInternalException (https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html).
  kms: {
    throttle: ["ThrottlingException", 400, "Rate exceeded"],
    error500: ["KMSInternalException", 500, "An internal error occurred."],
    unavailable503: UNAVAILABLE,
  },
  acm: {
    throttle: ["ThrottlingException", 400, "Rate exceeded"],
    error500: INTERNAL,
    unavailable503: UNAVAILABLE,
  },
};

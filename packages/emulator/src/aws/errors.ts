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
